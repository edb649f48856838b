import { createHash } from 'crypto';

/** Where one Create Post call sits in n8n: the parts that make its automatic Idempotency-Key. */
export interface KeyParts {
	instanceId: string;
	workflowId: string;
	executionId: string;
	nodeId: string;
	runIndex: number;
	itemIndex: number;
}

/**
 * The automatic Idempotency-Key of one item: unique per n8n instance, workflow, execution, node,
 * run of the node (loops) and item, and the same when n8n retries that item (Retry On Fail runs
 * the same execution, run and item again). The readable part says where to look in n8n; the
 * digest covers the parts that would otherwise collide (another instance, another node).
 */
export function automaticKey(parts: KeyParts): string {
	const digest = createHash('sha256')
		.update(
			JSON.stringify([
				parts.instanceId,
				parts.workflowId,
				parts.executionId,
				parts.nodeId,
				parts.runIndex,
				parts.itemIndex,
			]),
		)
		.digest('hex')
		.slice(0, 32);
	return `n8n-${parts.executionId}-${parts.runIndex}-${parts.itemIndex}-${digest}`.slice(0, 255);
}
