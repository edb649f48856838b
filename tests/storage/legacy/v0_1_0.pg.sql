--
-- PostgreSQL database dump
--

\restrict H3X73pznAIHmw1GUzelFU8K14KZJmgAUJ9VRoo0AOvnmfX4hOPkgz1M29s55ZOJ

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    platform character varying(30) NOT NULL,
    handle character varying(100) NOT NULL,
    display_name character varying(200) NOT NULL,
    mode character varying(10) NOT NULL,
    status character varying(20) NOT NULL,
    credentials text,
    settings json NOT NULL,
    created_at timestamp without time zone NOT NULL,
    deleted_at timestamp without time zone
);


--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    hash character varying(64) NOT NULL,
    hint character varying(24) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    revoked_at timestamp without time zone
);


--
-- Name: deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deliveries (
    id character varying(40) NOT NULL,
    event_id character varying(40) NOT NULL,
    endpoint_id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    status character varying(20) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone,
    lease_until timestamp without time zone,
    last_status_code integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: delivery_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delivery_attempts (
    id bigint NOT NULL,
    delivery_id character varying(40) NOT NULL,
    attempted_at timestamp without time zone NOT NULL,
    status_code integer,
    latency_ms integer,
    error text,
    response_body text
);


--
-- Name: delivery_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.delivery_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: delivery_attempts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.delivery_attempts_id_seq OWNED BY public.delivery_attempts.id;


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    seq bigint NOT NULL,
    id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    type character varying(40) NOT NULL,
    post_id character varying(40),
    data json NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: events_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: events_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.events_seq_seq OWNED BY public.events.seq;


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    scope character varying(40) NOT NULL,
    key character varying(255) NOT NULL,
    fingerprint character varying(64) NOT NULL,
    status_code integer,
    response text,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: posts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.posts (
    id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    status character varying(30) NOT NULL,
    caption text NOT NULL,
    media json NOT NULL,
    scheduled_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: sandbox_posts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sandbox_posts (
    id character varying(60) NOT NULL,
    account_id character varying(40) NOT NULL,
    platform character varying(30) NOT NULL,
    reference character varying(60) NOT NULL,
    caption text NOT NULL,
    media json NOT NULL,
    platform_post_id character varying(200) NOT NULL,
    permalink text NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settings (
    name character varying(100) NOT NULL,
    value json NOT NULL
);


--
-- Name: targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.targets (
    id character varying(40) NOT NULL,
    post_id character varying(40) NOT NULL,
    "position" integer NOT NULL,
    workspace_id character varying(40) NOT NULL,
    account_id character varying(40) NOT NULL,
    platform character varying(30) NOT NULL,
    status character varying(20) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone,
    lease_until timestamp without time zone,
    permalink text,
    platform_post_id character varying(200),
    error json,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    id character varying(40) NOT NULL,
    workspace_id character varying(40) NOT NULL,
    url text NOT NULL,
    events json NOT NULL,
    description text,
    status character varying(20) NOT NULL,
    disabled_reason text,
    secret text NOT NULL,
    previous_secret text,
    previous_expires_at timestamp without time zone,
    failing_since timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    deleted_at timestamp without time zone
);


--
-- Name: workspaces; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.workspaces (
    id character varying(40) NOT NULL,
    name character varying(200) NOT NULL,
    mode character varying(10) NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: delivery_attempts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_attempts ALTER COLUMN id SET DEFAULT nextval('public.delivery_attempts_id_seq'::regclass);


--
-- Name: events seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events ALTER COLUMN seq SET DEFAULT nextval('public.events_seq_seq'::regclass);


--
-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.accounts VALUES ('acct_NAPqJY79Guzm3mf0', 'ws_8Md4xaXbtm87oYwu', 'bluesky', 'acme.bsky.social', 'Acme', 'live', 'active', 'gAAAAABrD_GSCzST3nx_uzdNtZL4vmxNCLfyH4sZ_n3UmWiLI5wFMtGCtqnJAwH_WcgSUf2qzOgEPTAKEUcnGJ74p-ZJggXSAi8NGjipUo91whfp9pAa67Q8SqwZ9SK7VZ17AFIX_VL_UvGxNqD8v2_om7Bwsz1sSPj8d8VogFquCy70qxCkTVM=', '{}', '2026-12-02 10:23:14.69299', NULL);
INSERT INTO public.accounts VALUES ('acct_TETlfE1NrVomgaZR', 'ws_8Md4xaXbtm87oYwu', 'mastodon', '@acme@mastodon.social', 'Acme', 'live', 'active', 'gAAAAABrD_GSUQlyZVIsmu3iBlWI4Q4nf9gu4XEXe1DXmCEXETpGAdsKUZkQxJ8b8bpssUsNNeVAE8jvqqoEvVaQnaXiUTthUOVxht5U1VAccvRyzQBUWoS-5Ya60Cwmmafl7VwvYbatdSgcoI1QQZIy8_M5IZDElG1zvHaa-nMJJ2iaCzq2c3A=', '{}', '2026-12-02 10:23:14.694975', NULL);
INSERT INTO public.accounts VALUES ('acct_5h0OUMxUSfjmHInK', 'ws_bsaIQkDmH8IZCpqA', 'instagram', 'instagram_sandbox', 'instagram_sandbox', 'sandbox', 'active', NULL, '{}', '2026-12-02 10:23:14.769141', NULL);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_keys VALUES ('key_f5os143KSVAKClU6', 'ws_8Md4xaXbtm87oYwu', '888ecfb8739298491427e502065f231f1a92b2c9eb8cfb5798ffd9903aa6a347', 'pd_live_…DmnD', '2026-12-02 10:23:14.684471', NULL);
INSERT INTO public.api_keys VALUES ('key_LF9VGvkXv128D9wZ', 'ws_8Md4xaXbtm87oYwu', '2765c61673d99e454cd1af884e715689b9c82d4ff8b90599621fa6f79e957b10', 'pd_live_…ADqQ', '2026-12-02 10:23:14.685218', '2026-12-02 10:23:14.686353');
INSERT INTO public.api_keys VALUES ('key_pmut7GM5U6ZEswJE', 'ws_bsaIQkDmH8IZCpqA', 'f9ce6c94e691af58a8bd9ec1ac4739819814b98c3952e6fc439513482d0db3d9', 'pd_test_…mWJU', '2026-12-02 10:23:14.699934', NULL);


--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.deliveries VALUES ('dlv_9DSUCwlodUY9TrTs', 'evt_YQRv0Ct81LxfFW0w', 'wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'pending', 0, '2026-12-02 10:23:14.880115', NULL, NULL, '2026-12-02 10:23:14.880115', '2026-12-02 10:23:14.880115');
INSERT INTO public.deliveries VALUES ('dlv_Th8quXBomJj2fa6z', 'evt_g9ylhrb7blw0lUtg', 'wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'pending', 0, '2026-12-02 10:23:14.88953', NULL, NULL, '2026-12-02 10:23:14.88953', '2026-12-02 10:23:14.88953');
INSERT INTO public.deliveries VALUES ('dlv_aJVhBOxmEfVeLtJE', 'evt_zh4s53bBr1IM70um', 'wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'pending', 0, '2026-12-02 10:23:14.899921', NULL, NULL, '2026-12-02 10:23:14.899921', '2026-12-02 10:23:14.899921');
INSERT INTO public.deliveries VALUES ('dlv_P4e7p0v7lh6Ughhm', 'evt_yJPWa5thGyNcfvs5', 'wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'delivered', 1, '2026-11-20 09:05:00', NULL, NULL, '2026-11-20 09:05:00', '2026-11-20 09:05:00');
INSERT INTO public.deliveries VALUES ('dlv_yJXbLKoKCzYDCJDj', 'evt_RBR5KPs4o0HGUzW5', 'wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'failed', 2, '2026-11-20 09:05:00', NULL, 500, '2026-11-20 09:05:00', '2026-11-20 09:05:00');


--
-- Data for Name: delivery_attempts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.delivery_attempts VALUES (1, 'dlv_P4e7p0v7lh6Ughhm', '2026-11-20 09:05:00', 200, 41, NULL, '{"ok":true}');
INSERT INTO public.delivery_attempts VALUES (2, 'dlv_yJXbLKoKCzYDCJDj', '2026-11-20 09:06:00', 500, 12, NULL, 'oops');
INSERT INTO public.delivery_attempts VALUES (3, 'dlv_yJXbLKoKCzYDCJDj', '2026-11-20 09:07:00', NULL, 30000, 'timeout', NULL);


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (1, 'evt_YQRv0Ct81LxfFW0w', 'ws_8Md4xaXbtm87oYwu', 'post.scheduled', 'post_tVD6ELY9AQr1ZXfz', '{"post_id": "post_tVD6ELY9AQr1ZXfz", "status": "scheduled", "scheduled_at": "2027-01-04T09:00:00Z", "targets": [{"account_id": "acct_NAPqJY79Guzm3mf0", "platform": "bluesky"}]}', '2026-12-02 10:23:14.880115');
INSERT INTO public.events VALUES (2, 'evt_g9ylhrb7blw0lUtg', 'ws_8Md4xaXbtm87oYwu', 'post.scheduled', 'post_rQz2ZSUmXPHbo72E', '{"post_id": "post_rQz2ZSUmXPHbo72E", "status": "scheduled", "scheduled_at": "2027-01-05T09:00:00Z", "targets": [{"account_id": "acct_TETlfE1NrVomgaZR", "platform": "mastodon"}]}', '2026-12-02 10:23:14.88953');
INSERT INTO public.events VALUES (3, 'evt_zh4s53bBr1IM70um', 'ws_8Md4xaXbtm87oYwu', 'post.canceled', 'post_rQz2ZSUmXPHbo72E', '{"post_id": "post_rQz2ZSUmXPHbo72E", "status": "canceled", "targets": [{"account_id": "acct_TETlfE1NrVomgaZR", "platform": "mastodon"}]}', '2026-12-02 10:23:14.899921');
INSERT INTO public.events VALUES (4, 'evt_yJPWa5thGyNcfvs5', 'ws_8Md4xaXbtm87oYwu', 'post.completed', 'post_qLK9MZd6H8S7hKzN', '{"post_id": "post_qLK9MZd6H8S7hKzN", "status": "published", "targets": [{"account_id": "acct_NAPqJY79Guzm3mf0", "platform": "bluesky", "status": "confirmed", "permalink": "https://bsky.app/profile/acme.bsky.social/post/3l1"}, {"account_id": "acct_TETlfE1NrVomgaZR", "platform": "mastodon", "status": "confirmed", "permalink": "https://mastodon.social/@acme/109"}]}', '2026-11-20 09:05:00');
INSERT INTO public.events VALUES (5, 'evt_RBR5KPs4o0HGUzW5', 'ws_8Md4xaXbtm87oYwu', 'post.completed', 'post_PPfBL12TuyU4ffAE', '{"post_id": "post_PPfBL12TuyU4ffAE", "status": "partially_published", "targets": [{"account_id": "acct_NAPqJY79Guzm3mf0", "platform": "bluesky", "status": "confirmed", "permalink": "https://bsky.app/profile/acme.bsky.social/post/3l2"}, {"account_id": "acct_TETlfE1NrVomgaZR", "platform": "mastodon", "status": "failed", "permalink": null}]}', '2026-11-20 09:05:00');
INSERT INTO public.events VALUES (6, 'evt_3V5s4u3x3nkL9BFR', 'ws_bsaIQkDmH8IZCpqA', 'post.completed', 'post_q3G4K9169fXd56Cq', '{"post_id": "post_q3G4K9169fXd56Cq", "status": "published", "targets": [{"account_id": "acct_5h0OUMxUSfjmHInK", "platform": "instagram", "status": "confirmed", "permalink": "https://www.instagram.com/p/sbx_1/"}]}', '2026-11-20 09:05:00');
INSERT INTO public.events VALUES (7, 'evt_YvVQ3pp0dkpgFIm5', 'ws_8Md4xaXbtm87oYwu', 'account.expired', NULL, '{"account_id": "acct_TETlfE1NrVomgaZR"}', '2026-11-20 09:05:00');


--
-- Data for Name: idempotency_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.idempotency_keys VALUES ('ws_8Md4xaXbtm87oYwu', 'launch-2026-11-20', 'ca2283c91ef452076e46272eb7d55131d97de0be9c4ea835b819d3bd8ed74b26', 201, 'gAAAAABrD_GSl9r_FIPxG4GHaTQLY8F7cwBxkIu2Pc--zujK5ZAmyVs8NJcGHJgDGt1_T1xU77p2a5BPM7SwtkGKBdTS-3cqmsDnNNWy1iBdU2AqDhP5MVhztLyjGcaqrKn7wJInemaRAMjjAbEzLT8vtnTQdQABg3RSV7x-DpOrUGOFPkc0wLz0Yj36hnwjURv0rLZCl1JqAzU6gusw8Y_Y2eoOO5J08mQjOcEqH55_AAdZ03Mqx8yhO85DkT5L0oKNVful-1M4DEgimgUHUwzeu0fNI9pevFOw_4JQG6KcpQTZkAyjdrd6yulhRxxNZWigNjpyKf0XeKS2eouLQapvPdyov9l5pbyMIUfg_S9uyDJErFuIi9mPQ2nJ5WlEz1v4qRJFOgJ7J-ikyyQINYMRNKKF-Y5oSUOKmJ6DZWAa4OQlJWUYvKrDeJqa0q2ZL-Ay25wJpZrxWJ5_I4kodVMSVJMzvj4YOGl3Fu2XfUbsIfa-x5LzWveZqPkpbybQnD-2BZmz4nI3mX9L7wv6I8KSxeNVnWzPhv_ric6kaNYkCJU-k7ntpDIFNNM51g6ffR2sOqwGlrLjj0_y72jsZ7KKnr7h-vdobZH56H91gLgZxlYyKEUx13uCaHwTbFmH-z--nCKSagwVDojzx23P92nYqvLINL4gFwmwF4tVAJan0kzQiZ5XNQXe0bT9Ax044lwczHiCFggQoyOC-_jiDg_6VkOAKchQroO8FTNK6wajKSShcjG__KJlo8M_7Q19oynGp9Op3HOE08C_vwpJ9qzqGdvQzJpMGg==', '2026-12-02 10:23:14.779171');


--
-- Data for Name: posts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.posts VALUES ('post_qLK9MZd6H8S7hKzN', 'ws_8Md4xaXbtm87oYwu', 'published', 'Launch day', '[{"type": "image", "url": "https://cdn.example.com/a.jpg"}]', NULL, '2026-12-02 10:23:14.780799', '2026-11-20 09:05:00');
INSERT INTO public.posts VALUES ('post_PPfBL12TuyU4ffAE', 'ws_8Md4xaXbtm87oYwu', 'partially_published', 'Half made it', '[]', NULL, '2026-12-02 10:23:14.872704', '2026-11-20 09:05:00');
INSERT INTO public.posts VALUES ('post_tVD6ELY9AQr1ZXfz', 'ws_8Md4xaXbtm87oYwu', 'scheduled', 'Next week', '[]', '2027-01-04 09:00:00', '2026-12-02 10:23:14.880115', '2026-12-02 10:23:14.880115');
INSERT INTO public.posts VALUES ('post_rQz2ZSUmXPHbo72E', 'ws_8Md4xaXbtm87oYwu', 'canceled', 'Never mind', '[]', '2027-01-05 09:00:00', '2026-12-02 10:23:14.88953', '2026-12-02 10:23:14.899921');
INSERT INTO public.posts VALUES ('post_tfqVm9PwOh6XEsqn', 'ws_8Md4xaXbtm87oYwu', 'publishing', 'Try again', '[]', NULL, '2026-12-02 10:23:14.938829', '2026-12-02 10:23:14.938829');
INSERT INTO public.posts VALUES ('post_q3G4K9169fXd56Cq', 'ws_bsaIQkDmH8IZCpqA', 'published', 'Sandbox hello', '[{"type": "image", "url": "https://cdn.example.com/b.jpg"}]', NULL, '2026-12-02 10:23:14.952803', '2026-11-20 09:05:00');


--
-- Data for Name: sandbox_posts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sandbox_posts VALUES ('sbx_1', 'acct_5h0OUMxUSfjmHInK', 'instagram', 'tgt_0OEhnuLPTqCcVT7S', 'Sandbox hello', '[]', 'sbx_1', 'https://www.instagram.com/p/sbx_1/', '2026-11-20 09:05:00');


--
-- Data for Name: settings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.settings VALUES ('secret_key', '"GLqMSWeDZiiKueTfymJdwSS1f63NWtlwD4tk_I5VZwg"');


--
-- Data for Name: targets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.targets VALUES ('tgt_81C8Fp0Vg7x9g3Xo', 'post_qLK9MZd6H8S7hKzN', 0, 'ws_8Md4xaXbtm87oYwu', 'acct_NAPqJY79Guzm3mf0', 'bluesky', 'confirmed', 1, '2026-12-02 10:23:14.780799', NULL, 'https://bsky.app/profile/acme.bsky.social/post/3l1', 'at://did:plc:acme/app.bsky.feed.post/3l1', 'null', '2026-11-20 09:05:00');
INSERT INTO public.targets VALUES ('tgt_fEhPgCRVMqrnFOni', 'post_qLK9MZd6H8S7hKzN', 1, 'ws_8Md4xaXbtm87oYwu', 'acct_TETlfE1NrVomgaZR', 'mastodon', 'confirmed', 1, '2026-12-02 10:23:14.780799', NULL, 'https://mastodon.social/@acme/109', '109', 'null', '2026-11-20 09:05:00');
INSERT INTO public.targets VALUES ('tgt_T6TAON9TCIoRRmwG', 'post_PPfBL12TuyU4ffAE', 0, 'ws_8Md4xaXbtm87oYwu', 'acct_NAPqJY79Guzm3mf0', 'bluesky', 'confirmed', 2, '2026-12-02 10:23:14.872704', NULL, 'https://bsky.app/profile/acme.bsky.social/post/3l2', 'at://did:plc:acme/app.bsky.feed.post/3l2', 'null', '2026-11-20 09:05:00');
INSERT INTO public.targets VALUES ('tgt_wKwW7CL4s5c556rC', 'post_PPfBL12TuyU4ffAE', 1, 'ws_8Md4xaXbtm87oYwu', 'acct_TETlfE1NrVomgaZR', 'mastodon', 'failed', 1, '2026-12-02 10:23:14.872704', NULL, NULL, NULL, '{"code": "rejected", "message": "Text too long"}', '2026-11-20 09:05:00');
INSERT INTO public.targets VALUES ('tgt_Q3CcgA6ZzQ7THHNy', 'post_tVD6ELY9AQr1ZXfz', 0, 'ws_8Md4xaXbtm87oYwu', 'acct_NAPqJY79Guzm3mf0', 'bluesky', 'scheduled', 0, '2027-01-04 09:00:00', NULL, NULL, NULL, 'null', '2026-12-02 10:23:14.880115');
INSERT INTO public.targets VALUES ('tgt_qTNZU3Jgroj3k68V', 'post_rQz2ZSUmXPHbo72E', 0, 'ws_8Md4xaXbtm87oYwu', 'acct_TETlfE1NrVomgaZR', 'mastodon', 'canceled', 0, '2027-01-05 09:00:00', NULL, NULL, NULL, 'null', '2026-12-02 10:23:14.899921');
INSERT INTO public.targets VALUES ('tgt_Vk8jIN0P54barRww', 'post_tfqVm9PwOh6XEsqn', 0, 'ws_8Md4xaXbtm87oYwu', 'acct_NAPqJY79Guzm3mf0', 'bluesky', 'retrying', 1, '2026-11-20 09:05:30', NULL, NULL, NULL, '{"code": "platform_unavailable", "message": "502 from the platform", "retryable": true}', '2026-11-20 09:05:00');
INSERT INTO public.targets VALUES ('tgt_0OEhnuLPTqCcVT7S', 'post_q3G4K9169fXd56Cq', 0, 'ws_bsaIQkDmH8IZCpqA', 'acct_5h0OUMxUSfjmHInK', 'instagram', 'confirmed', 1, '2026-12-02 10:23:14.952803', NULL, 'https://www.instagram.com/p/sbx_1/', 'sbx_1', 'null', '2026-11-20 09:05:00');


--
-- Data for Name: webhook_endpoints; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook_endpoints VALUES ('wh_adGyuSsmHUj839C3', 'ws_8Md4xaXbtm87oYwu', 'https://hooks.example.com/postdodo/legacy', '[]', 'CRM sync', 'enabled', NULL, 'gAAAAABrD_GSdhlnjaG3BCpnkvruoFo3NYT-jnVMVv2eqYA7ZKm0WNxQ1le8emxVLktFlncqUX1Te930ld1F9MAsN9MDt1Hj9OOugaSQJNRejA3kWyJaHoG-qw50qWCqjiQ5GRJJcL44', NULL, NULL, '2026-11-20 09:05:00', '2026-11-20 09:00:00', NULL);


--
-- Data for Name: workspaces; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.workspaces VALUES ('ws_8Md4xaXbtm87oYwu', 'acme', 'live', '2026-12-02 10:23:14.679335');
INSERT INTO public.workspaces VALUES ('ws_bsaIQkDmH8IZCpqA', 'acme-sandbox', 'test', '2026-12-02 10:23:14.699528');


--
-- Name: delivery_attempts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.delivery_attempts_id_seq', 3, true);


--
-- Name: events_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.events_seq_seq', 7, true);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_hash_key UNIQUE (hash);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);


--
-- Name: delivery_attempts delivery_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_attempts
    ADD CONSTRAINT delivery_attempts_pkey PRIMARY KEY (id);


--
-- Name: events events_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_id_key UNIQUE (id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key);


--
-- Name: posts posts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.posts
    ADD CONSTRAINT posts_pkey PRIMARY KEY (id);


--
-- Name: sandbox_posts sandbox_posts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sandbox_posts
    ADD CONSTRAINT sandbox_posts_pkey PRIMARY KEY (id);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (name);


--
-- Name: targets targets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);


--
-- Name: workspaces workspaces_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.workspaces
    ADD CONSTRAINT workspaces_pkey PRIMARY KEY (id);


--
-- Name: ix_accounts_workspace; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_accounts_workspace ON public.accounts USING btree (workspace_id, created_at);


--
-- Name: ix_attempts_delivery; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_attempts_delivery ON public.delivery_attempts USING btree (delivery_id, id);


--
-- Name: ix_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_due ON public.deliveries USING btree (status, next_attempt_at);


--
-- Name: ix_deliveries_endpoint; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_endpoint ON public.deliveries USING btree (endpoint_id, created_at);


--
-- Name: ix_deliveries_event; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_event ON public.deliveries USING btree (event_id);


--
-- Name: ix_deliveries_lease; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_lease ON public.deliveries USING btree (status, lease_until);


--
-- Name: ix_events_post; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_events_post ON public.events USING btree (post_id, seq);


--
-- Name: ix_events_workspace; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_events_workspace ON public.events USING btree (workspace_id, seq);


--
-- Name: ix_posts_workspace_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_posts_workspace_created ON public.posts USING btree (workspace_id, created_at, id);


--
-- Name: ix_sandbox_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sandbox_account ON public.sandbox_posts USING btree (account_id);


--
-- Name: ix_sandbox_posts_reference; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sandbox_posts_reference ON public.sandbox_posts USING btree (reference);


--
-- Name: ix_targets_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_targets_account ON public.targets USING btree (account_id, status);


--
-- Name: ix_targets_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_targets_due ON public.targets USING btree (status, next_attempt_at);


--
-- Name: ix_targets_lease; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_targets_lease ON public.targets USING btree (status, lease_until);


--
-- Name: ix_targets_post; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_targets_post ON public.targets USING btree (post_id, "position");


--
-- Name: ix_webhooks_workspace; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhooks_workspace ON public.webhook_endpoints USING btree (workspace_id, created_at);


--
-- Name: accounts accounts_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);


--
-- Name: api_keys api_keys_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);


--
-- Name: posts posts_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.posts
    ADD CONSTRAINT posts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);


--
-- Name: targets targets_post_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_post_id_fkey FOREIGN KEY (post_id) REFERENCES public.posts(id);


--
-- PostgreSQL database dump complete
--

\unrestrict H3X73pznAIHmw1GUzelFU8K14KZJmgAUJ9VRoo0AOvnmfX4hOPkgz1M29s55ZOJ

