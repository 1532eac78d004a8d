// What the edge's routers ask of a TargetHub, validated on the way in.
import { z } from 'zod';
import { RetryDriftChoice } from '../../shared/api.ts';
import { TriggerKind } from '../../shared/deployment.ts';

const Sha = z.string().regex(/^[0-9a-f]{40}$/);

export const EnqueueDeploy = z.object({
  target: z.string(),
  /** null: the branch head most recently seen. */
  sha: Sha.nullable(),
  ref: z.string().nullable(),
  trigger: TriggerKind,
  actor: z.string(),
  message: z.string().nullable(),
  author: z.string().nullable(),
  deliveryId: z.string().nullable(),
  source: z.string().nullable(),
  /**
   * A push also moves the branch head: noted in the same call as its deployment (one round trip
   * for GitHub to wait on), and only when the delivery is new, so a redelivery of an older push
   * never moves the head back.
   */
  branchHead: z.object({ message: z.string(), author: z.string().nullable(), at: z.number() }).optional(),
  /**
   * A push's `before`: the commit the branch stood on when it was pushed (000…0 when the push
   * created the branch). Lets the hub tell a push delivered late from a new one. Absent for every
   * other trigger.
   */
  pushedOver: Sha.optional(),
  /** Issue 20, traces: when the edge received the webhook that asks for it (the trace's `delivery` span); absent for the API's. */
  receivedAt: z.number().int().optional(),
  /** A retry of a deploy that stopped on drift: the way on for this deployment only (retry.ts). */
  driftChoice: RetryDriftChoice.optional(),
});
export type EnqueueDeploy = z.infer<typeof EnqueueDeploy>;

/** A deploy an operator asked for (API or status page): a chosen commit, or the branch head. */
export function manualDeploy(target: string, sha: string | null, actor: string, source: string | null): EnqueueDeploy {
  return { target, sha, ref: null, trigger: 'manual', actor, message: null, author: null, deliveryId: null, source };
}

export const EnqueueRollback = z.object({
  target: z.string(),
  deploymentId: z.string().nullable(),
  backupId: z.string().nullable(),
  actor: z.string(),
  source: z.string().nullable(),
  /** The caller is an admin: a rollback while the target is frozen goes through the freeze (break glass, audited; freeze.ts). */
  breakGlass: z.boolean().optional(),
});
export type EnqueueRollback = z.infer<typeof EnqueueRollback>;

export const BranchHead = z.object({
  target: z.string(),
  sha: Sha,
  message: z.string(),
  author: z.string().nullable(),
  at: z.number(),
  /** The push's X-GitHub-Delivery: a redelivery of it must not move the head back to its commit. */
  deliveryId: z.string().nullable().optional(),
  /** The push's `before`, as for EnqueueDeploy: a push delivered late must not move the head back. */
  pushedOver: Sha.optional(),
});
export type BranchHead = z.infer<typeof BranchHead>;

/** The gating workflow started, or completed without succeeding, for a push to the branch. */
export const WorkflowVerdict = z.object({
  target: z.string(),
  sha: Sha,
  /** The workflow as the target's trigger names it. */
  workflow: z.string(),
  /** null: started, not concluded yet. */
  conclusion: z.string().min(1).nullable(),
  /** The run's `html_url`, only when it is http(s). */
  url: z.string().nullable(),
  at: z.number(),
});
export type WorkflowVerdict = z.infer<typeof WorkflowVerdict>;

export interface EnqueueOutcome {
  deploymentId: string;
  /** false when this delivery was seen before and nothing new was queued. */
  created: boolean;
  superseded: string[];
  /** Why the deployment recorded for this request will not run (a push delivered late); null when it is queued. */
  notDeployed: string | null;
}
