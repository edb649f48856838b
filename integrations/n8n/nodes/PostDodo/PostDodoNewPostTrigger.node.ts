import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { pollingProperties, pollingTrigger } from './shared/catalogue';
import { apiRequest } from './shared/transport';

const TRIGGER = 'new_post'; // the catalogue's polling trigger (Zapier's "New Post" too)
const PAGE_SIZE = 100; // the API's largest page
const MAX_PAGES = 10; // a long pause between polls reads at most this many pages of new posts
const REMEMBERED = 1000; // post ids kept to recognise posts already emitted

/** What the trigger keeps between polls (workflow static data, saved by n8n after each poll). */
interface PollState {
	seen?: string[];
	status?: string;
}

/**
 * Polls GET /v1/posts (newest first) and emits every post it has not emitted before, oldest first.
 * The first poll after activation only remembers the posts that already exist; a manual test run
 * returns the newest post so that the editor shows a sample.
 */
export class PostDodoNewPostTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PostDodo New Post Trigger',
		name: 'postDodoNewPostTrigger',
		icon: { light: 'file:postdodo.svg', dark: 'file:postdodo.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["status"] ? "New " + $parameter["status"] + " post" : "New post"}}',
		description: pollingTrigger(TRIGGER).description ?? 'Starts the workflow when a new post appears in PostDodo',
		defaults: {
			name: 'PostDodo New Post',
		},
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'postDodoApi',
				required: true,
			},
		],
		properties: pollingProperties(TRIGGER),
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const trigger = pollingTrigger(TRIGGER);
		const dedupeBy = trigger.dedupeBy;
		const status = String(this.getNodeParameter('status', '') ?? '');
		const state = this.getWorkflowStaticData('node') as PollState;
		const manual = this.getMode() === 'manual';
		const qs: IDataObject = { ...(trigger.request.qs ?? {}) };
		if (status) qs.status = status;

		if (manual) {
			const { body } = await apiRequest.call(this, {
				method: 'GET',
				path: trigger.request.url,
				qs: { ...qs, limit: 1 },
			});
			const newest = (body.data ?? []) as IDataObject[];
			return newest.length > 0 ? [this.helpers.returnJsonArray(newest)] : null;
		}

		// Another status filter means other posts: start remembering afresh, without firing.
		const firstPoll = !Array.isArray(state.seen) || (state.status ?? '') !== status;
		const seen = new Set(firstPoll ? [] : state.seen);
		const fresh: IDataObject[] = [];
		let cursor: string | undefined;
		let pages = 0;
		let reachedSeen = false;
		do {
			const { body } = await apiRequest.call(this, {
				method: 'GET',
				path: trigger.request.url,
				qs: { ...qs, limit: firstPoll ? PAGE_SIZE : Math.max(Number(qs.limit ?? 0), 1), ...(cursor ? { cursor } : {}) },
			});
			pages++;
			for (const post of (body.data ?? []) as IDataObject[]) {
				const id = String(post[dedupeBy] ?? '');
				if (!id) continue;
				if (seen.has(id)) reachedSeen = true;
				else fresh.push(post);
			}
			cursor = body.has_more && body.next_cursor ? String(body.next_cursor) : undefined;
			// Only the first poll's newest page is remembered; later polls page back to a known post.
		} while (!firstPoll && !reachedSeen && cursor && pages < MAX_PAGES);

		const ids = fresh.map((post) => String(post[dedupeBy]));
		state.seen = [...ids, ...(firstPoll ? [] : (state.seen ?? []))].slice(0, REMEMBERED);
		state.status = status;
		if (firstPoll || fresh.length === 0) return null;
		// The API lists newest first; the workflow sees posts in the order they were created.
		return [this.helpers.returnJsonArray(fresh.reverse())];
	}
}
