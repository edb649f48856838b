// The credentials and workflows the n8n smoke test imports into n8n.
export const CREDENTIAL = { id: 'pdSmokeCred00001', name: 'PostDodo (smoke)' };
export const WRONG_KEY = { id: 'pdSmokeCred00002', name: 'PostDodo (wrong key)' };
export const FLAKY = { id: 'pdSmokeCred00003', name: 'PostDodo (through a proxy that drops the first answer)' };
export const RETRIED_CAPTION = 'n8n smoke: retried';
export const LOOP_CAPTION = 'n8n smoke: loop';
export const ids = {
	create: 'pdSmokeCreate001',
	trigger: 'pdSmokeTrigger01',
	webhook: '5f1c6a0e-6b53-4f59-9d5e-7a51c0de0001',
	refused: 'pdSmokeRefused01',
	refusedWebhook: '5f1c6a0e-6b53-4f59-9d5e-7a51c0de0002',
	newPost: 'pdSmokeNewPost01',
};

function postDodoNode(id, name, parameters, position, credential = CREDENTIAL) {
	return {
		id,
		name,
		type: 'n8n-nodes-postdodo.postDodo',
		typeVersion: 1,
		position,
		parameters,
		credentials: { postDodoApi: credential },
	};
}

function triggerWorkflow(id, name, webhookId, credential) {
	return {
		id,
		name,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: `00000000-0000-4000-8000-0000000000${id === ids.trigger ? '10' : '20'}`,
				name: 'PostDodo Trigger',
				type: 'n8n-nodes-postdodo.postDodoTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: { events: ['post.published'] },
				credentials: { postDodoApi: credential },
			},
		],
		connections: {},
	};
}

export function workflows(accountId) {
	const create = (caption) => ({ resource: 'post', operation: 'create', caption, accountIds: [accountId] });
	return [
		{
			id: ids.create,
			name: 'PostDodo smoke: create, get, list',
			active: false,
			settings: { executionOrder: 'v1' },
			nodes: [
				{
					id: '00000000-0000-4000-8000-000000000001',
					name: 'Start',
					type: 'n8n-nodes-base.manualTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: {},
				},
				// Two Create nodes in one execution: each must get its own Idempotency-Key.
				postDodoNode('00000000-0000-4000-8000-000000000002', 'Create A', create('n8n smoke A'), [200, 0]),
				postDodoNode('00000000-0000-4000-8000-000000000003', 'Create B', create('n8n smoke B'), [400, 0]),
				postDodoNode(
					'00000000-0000-4000-8000-000000000004',
					'Get',
					{ resource: 'post', operation: 'get', postId: '={{ $json.id }}' },
					[600, 0],
				),
				postDodoNode(
					'00000000-0000-4000-8000-000000000005',
					'List',
					{ resource: 'post', operation: 'getAll', returnAll: false, limit: 10, filters: {} },
					[800, 0],
				),
				// Retry On Fail: the proxy drops the answer to the first attempt after the API accepted it.
				{
					...postDodoNode('00000000-0000-4000-8000-000000000006', 'Create (retried)', create(RETRIED_CAPTION), [200, 200], FLAKY),
					retryOnFail: true,
					maxTries: 2,
					waitBetweenTries: 0,
				},
				// Create inside a loop: the same node, execution and item index on each pass, another run index.
				{
					id: '00000000-0000-4000-8000-000000000007',
					name: 'Two Items',
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					position: [200, 400],
					parameters: { jsCode: 'return [{ json: { n: 1 } }, { json: { n: 2 } }];' },
				},
				{
					id: '00000000-0000-4000-8000-000000000008',
					name: 'Loop',
					type: 'n8n-nodes-base.splitInBatches',
					typeVersion: 3,
					position: [400, 400],
					parameters: { batchSize: 1, options: {} },
				},
				postDodoNode(
					'00000000-0000-4000-8000-000000000009',
					'Create (loop)',
					create(`=${LOOP_CAPTION} {{ $json.n }}`),
					[600, 400],
				),
			],
			connections: {
				Start: {
					main: [
						[
							{ node: 'Create A', type: 'main', index: 0 },
							{ node: 'Create (retried)', type: 'main', index: 0 },
							{ node: 'Two Items', type: 'main', index: 0 },
						],
					],
				},
				'Two Items': { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
				Loop: { main: [[], [{ node: 'Create (loop)', type: 'main', index: 0 }]] },
				'Create (loop)': { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
				'Create A': { main: [[{ node: 'Create B', type: 'main', index: 0 }]] },
				'Create B': { main: [[{ node: 'Get', type: 'main', index: 0 }]] },
				Get: { main: [[{ node: 'List', type: 'main', index: 0 }]] },
			},
		},
		triggerWorkflow(ids.trigger, 'PostDodo smoke: trigger', ids.webhook, CREDENTIAL),
		triggerWorkflow(ids.refused, 'PostDodo smoke: trigger with a wrong key', ids.refusedWebhook, WRONG_KEY),
		{
			id: ids.newPost,
			name: 'PostDodo smoke: New Post (polling)',
			active: false,
			settings: { executionOrder: 'v1' },
			nodes: [
				{
					id: '00000000-0000-4000-8000-000000000030',
					name: 'PostDodo New Post',
					type: 'n8n-nodes-postdodo.postDodoNewPostTrigger',
					typeVersion: 1,
					position: [0, 0],
					parameters: { pollTimes: { item: [{ mode: 'everyHour' }] }, status: '' },
					credentials: { postDodoApi: CREDENTIAL },
				},
			],
			connections: {},
		},
	];
}
