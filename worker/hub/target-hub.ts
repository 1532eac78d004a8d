// TargetHub: one Durable Object per deployment target. The class is the shell: it owns the
// storage (the SQLite schema, created here), the sockets (relays and watching status pages) and the
// single alarm, and routes each entry point (an RPC call, a socket event, the alarm) to the concern
// that handles it. The concerns are plain functions over a Hub (hub.ts), a module each: intake,
// queue, push ordering, rollback, the relay session and dispatch, leases, reads, outward, watchers;
// alarm-schedule.ts sets the alarm to the earliest deadline any of them has. Everything is written
// to SQLite before anyone is answered; nothing lives only in memory, because the object may
// hibernate or be evicted between any two events. docs/design.md has the map.
import { DurableObject } from 'cloudflare:workers';
import type { Freeze, FreezeRequest } from '../../shared/freeze.ts';
import type { AuditPage, AuditQuery, BackupInventory, DeploymentView, DriftView, Metrics, RetryDriftChoice, TargetStatus } from '../../shared/api.ts';
import type { DeploymentStatus } from '../../shared/deployment.ts';
import { computeMetrics } from '../../shared/metrics.ts';
import { PING_TEXT, PONG_TEXT } from '../../shared/protocol.ts';
import { findTarget } from '../config/targets.ts';
import type { Env } from '../env.ts';
import type { TargetScrape } from '../metrics/target-scrape.ts';
import { Outbox } from '../outward/outbox.ts';
import { AlarmSchedule } from './alarm-schedule.ts';
import { AuditTrail } from './audit.ts';
import { BackupInventoryStore } from './backup-inventory.ts';
import { CaptureStore, type CaptureView } from './capture-store.ts';
import { takeCapture, takeCaptureThenRetry } from './captures.ts';
import { findCommit } from './commit-lookup.ts';
import { Deployments } from './deployments.ts';
import { dispatchNext } from './dispatch.ts';
import { newestStoppedOnDrift } from './drift-choice.ts';
import { DriftReportStore } from './drift-report.ts';
import { expireFreeze, nextFreezeDeadline, takeFreeze, takeRollbackThroughFreeze, takeUnfreeze, type FreezeActor } from './freeze.ts';
import type { Hub, SocketTag } from './hub.ts';
import type { HubResult } from './hub-result.ts';
import { takeBranchHead, takeDeploy, takeWorkflowVerdict } from './intake.ts';
import { expireAckTimeouts, expireLeases, nextAckDeadline, nextLeaseDeadline } from './leases.ts';
import { HubMeta } from './meta.ts';
import { announce, deliverOutward, nextOutwardDeadline } from './outward.ts';
import { PushTransitions } from './push-transitions.ts';
import type { PullPlanView } from './pull-plan-store.ts';
import { nextPlanDeadline, pullPlansOf, takePullRequest, type PullRequestSeen, type PullRequestTaken } from './pull-plans.ts';
import { takeTagDeploy, takeTagPush, takeTagRollback } from './release-tags.ts';
import { cancelQueued } from './queue.ts';
import { deploymentDetail, statusOf, type DeploymentDetail } from './reads.ts';
import { onRelayFrame, onRelayGone } from './relay-session.ts';
import { attachRelay, closeSilentRelays, nextHelloDeadline, replaceRelays } from './relay-socket.ts';
import { BranchHead, WorkflowVerdict, type EnqueueDeploy, type EnqueueOutcome, type EnqueueRollback } from './requests.ts';
import { planRestore, type BackupRestore } from './restore-plan.ts';
import { reopenWaiting, nextWindowDeadline, restartNow } from './restart-windows.ts';
import { retryPlan, takeRetry } from './retry.ts';
import { scrapeOf } from './scrape.ts';
import { addMissingColumns, HUB_SCHEMA } from './schema.ts';
import { StepLog } from './step-log.ts';
import { channelTimings } from './timings.ts';
import { notifyWatchers } from './watchers.ts';

const RELAY_TAG: SocketTag = 'relay';
const WATCHER_TAG: SocketTag = 'watcher';

export class TargetHub extends DurableObject<Env> {
  private readonly hub: Hub;
  private readonly schedule: AlarmSchedule;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(HUB_SCHEMA);
    addMissingColumns(sql);
    const meta = new HubMeta(sql);
    const hub: Hub = {
      sql,
      env,
      meta,
      deployments: new Deployments(sql, () => meta.targetName()),
      audit: new AuditTrail(sql),
      pushes: new PushTransitions(sql),
      stepLog: new StepLog(sql),
      outbox: new Outbox(sql),
      backupInventory: new BackupInventoryStore(sql),
      captures: new CaptureStore(sql),
      driftReports: new DriftReportStore(sql),
      timings: channelTimings(env),
      config: () => findTarget(env.TARGETS, meta.targetName()),
      sockets: (tag) => ctx.getWebSockets(tag),
      pump: () => dispatchNext(hub),
      changed: () => this.changed(),
      reschedule: () => this.schedule.reschedule(),
    };
    this.hub = hub;
    // Every deadline any concern keeps; the alarm is set to the earliest.
    this.schedule = new AlarmSchedule(meta, ctx.storage, [
      (now) => nextAckDeadline(hub, now),
      (now) => nextLeaseDeadline(hub, now),
      () => nextHelloDeadline(hub),
      () => nextOutwardDeadline(hub),
      () => nextPlanDeadline(hub),
      () => nextFreezeDeadline(hub),
      (now) => nextWindowDeadline(hub, now),
    ]);
    if (!meta.get('outward_started')) {
      // Deployments from before outward messages existed are history: GitHub is not told about them.
      hub.outbox.adoptHistory();
      meta.set('outward_started', String(Date.now()));
    }
    // Heartbeats are answered by the runtime itself, so an idle relay never wakes the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
  }

  /** Every entry point names its target; the hub remembers it for alarms and socket events. */
  private remember(target: string): void {
    this.hub.meta.remember(target);
  }

  // ---- intake and the queue ----------------------------------------------------------------------

  async enqueueDeploy(request: EnqueueDeploy): Promise<HubResult<EnqueueOutcome>> {
    this.remember(request.target);
    // A pushed release tag passes the tag gate first (release-tags.ts): lower or non-semver tags are ignored.
    if (request.trigger === 'tag') return takeTagPush(this.hub, request);
    return takeDeploy(this.hub, request);
  }

  // ---- release tags (issue 18): an operator's deploy of, or rollback to, a tag seen ----

  async deployTag(target: string, tag: string, actor: string, source: string | null): Promise<HubResult<EnqueueOutcome>> {
    this.remember(target);
    return takeTagDeploy(this.hub, { tag, actor, source });
  }

  async rollbackToTag(target: string, tag: string, actor: string, source: string | null): Promise<HubResult<{ deploymentId: string }>> {
    this.remember(target);
    return takeTagRollback(this.hub, { tag, actor, source });
  }

  async enqueueRollback(request: EnqueueRollback): Promise<HubResult<{ deploymentId: string }>> {
    this.remember(request.target);
    // While a freeze holds, only an admin's rollback goes (break glass, freeze.ts).
    return takeRollbackThroughFreeze(this.hub, request);
  }

  // ---- freezes (issue 18) ----

  async freeze(target: string, request: FreezeRequest, who: FreezeActor): Promise<HubResult<{ freeze: Freeze }>> {
    this.remember(target);
    return takeFreeze(this.hub, request, who);
  }

  async unfreeze(target: string, who: FreezeActor): Promise<HubResult<{ lifted: Freeze; dispatched: string | null }>> {
    this.remember(target);
    return takeUnfreeze(this.hub, who);
  }

  /** Whether a backup can be restored and what that brings back; the status page asks before it offers the button. */
  async backupRestore(target: string, backupId: string): Promise<HubResult<BackupRestore>> {
    this.remember(target);
    return planRestore(this.hub, backupId);
  }

  /** Whether a failed or rolled-back deploy can be tried again (retry.ts); the status page asks before it offers the button. */
  async retryPlan(target: string, deploymentId: string, drift?: RetryDriftChoice): Promise<HubResult<DeploymentView>> {
    this.remember(target);
    return retryPlan(this.hub, deploymentId, drift);
  }

  /** `drift`: for a deploy that stopped on drift, the way on for the new deployment only (drift-choice.ts). */
  async retry(target: string, deploymentId: string, actor: string, source: string | null, drift?: RetryDriftChoice): Promise<HubResult<{ deploymentId: string }>> {
    this.remember(target);
    return takeRetry(this.hub, { deploymentId, actor, source, drift });
  }

  // ---- captures (issue 17): host edits made a pull request ----

  async requestCapture(target: string, actor: string, source: string | null): Promise<HubResult<{ capture: CaptureView }>> {
    this.remember(target);
    return takeCapture(this.hub, actor, source);
  }

  /** The `capture` drift choice: capture, then retry the deployment keeping the host's files. */
  async captureThenRetry(target: string, deploymentId: string, actor: string, source: string | null): Promise<HubResult<{ capture: CaptureView }>> {
    this.remember(target);
    const taken = takeCaptureThenRetry(this.hub, deploymentId, actor, source);
    return taken.ok ? { ok: true, value: { capture: taken.value.capture } } : taken;
  }

  async captures(target: string, limit: number): Promise<CaptureView[]> {
    this.remember(target);
    return this.hub.captures.recent(limit);
  }

  /** An operator's "restart now" for a deployment waiting for the restart window (restart-windows.ts). */
  async restartNow(target: string, deploymentId: string, actor: string, source: string | null): Promise<HubResult<DeploymentView>> {
    this.remember(target);
    return restartNow(this.hub, deploymentId, actor, source);
  }

  async cancel(target: string, deploymentId: string, actor: string, source: string | null): Promise<HubResult<DeploymentView>> {
    this.remember(target);
    return cancelQueued(this.hub, deploymentId, actor, source);
  }

  /**
   * The full sha of a commit given by its start (7+ hex digits), among those this target knows: the
   * branch head and every commit it deployed (commit-lookup.ts).
   */
  async resolveCommit(target: string, given: string): Promise<HubResult<{ sha: string }>> {
    this.remember(target);
    return findCommit(this.hub, given);
  }

  async noteBranchHead(input: BranchHead): Promise<void> {
    const head = BranchHead.parse(input);
    this.remember(head.target);
    takeBranchHead(this.hub, head);
  }

  /** The gating workflow concluded without success for a commit: the status says so for that commit. */
  async noteWorkflowVerdict(input: WorkflowVerdict): Promise<void> {
    const verdict = WorkflowVerdict.parse(input);
    this.remember(verdict.target);
    takeWorkflowVerdict(this.hub, verdict);
  }

  // ---- pull-request plans (issue 20): worker/hub/pull-plans.ts ----

  async notePullRequest(target: string, seen: PullRequestSeen): Promise<PullRequestTaken> {
    this.remember(target);
    return takePullRequest(this.hub, seen);
  }

  /** The newest plan of each open pull request, for the status page and the API. */
  async pullPlans(target: string, limit: number): Promise<PullPlanView[]> {
    this.remember(target);
    return pullPlansOf(this.hub).openPlans(limit);
  }

  // ---- reads ------------------------------------------------------------------------------------

  async status(target: string): Promise<TargetStatus> {
    this.remember(target);
    return statusOf(this.hub, target);
  }

  /** The backups the relay last said the host keeps; null when no relay ever reported them. */
  async backups(target: string): Promise<BackupInventory | null> {
    this.remember(target);
    return this.hub.backupInventory.read();
  }

  /** The relay's latest drift report (null before any), and the newest deployment when it stopped on drift. */
  async drift(target: string): Promise<{ drift: DriftView | null; stoppedOnDrift: string | null }> {
    this.remember(target);
    return { drift: this.hub.driftReports.read(), stoppedOnDrift: newestStoppedOnDrift(this.hub)?.id ?? null };
  }

  async history(target: string, options: { status?: DeploymentStatus; limit: number; before?: string }): Promise<DeploymentView[]> {
    this.remember(target);
    return this.hub.deployments.page(options);
  }

  async deployment(target: string, id: string): Promise<HubResult<DeploymentDetail>> {
    this.remember(target);
    return deploymentDetail(this.hub, id);
  }

  async metrics(target: string, now: number, days: number): Promise<Metrics> {
    this.remember(target);
    return computeMetrics(this.hub.deployments.all(), now, days);
  }

  async auditTrail(target: string, query: AuditQuery): Promise<AuditPage> {
    this.remember(target);
    return this.hub.audit.page(query);
  }

  // ---- Prometheus (issue 20): everything GET /metrics shows of this target, in one call ----

  async scrape(target: string, now: number): Promise<TargetScrape> {
    this.remember(target);
    return scrapeOf(this.hub, target, now);
  }

  // ---- relay channel ----------------------------------------------------------------------------

  /** Only WebSocket upgrades reach `fetch`; the Worker has checked the relay token already. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const target = url.searchParams.get('target');
    if (!target || request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    this.remember(target);
    const role = url.searchParams.get('role') === 'watcher' ? WATCHER_TAG : RELAY_TAG;
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const now = Date.now();
    if (role === RELAY_TAG) {
      replaceRelays(this.hub);
      this.ctx.acceptWebSocket(server, [RELAY_TAG]);
      attachRelay(this.hub, server, request.headers.get('CF-Connecting-IP'), now);
      this.hub.reschedule();
    } else {
      this.ctx.acceptWebSocket(server, [WATCHER_TAG]);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    if (!this.ctx.getTags(ws).includes(RELAY_TAG)) return;
    onRelayFrame(this.hub, ws, frame);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.onSocketGone(ws, `closed (${code}${reason ? ` ${reason}` : ''})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.onSocketGone(ws, `error (${String(error)})`);
  }

  private onSocketGone(ws: WebSocket, how: string): void {
    if (!this.ctx.getTags(ws).includes(RELAY_TAG)) return;
    onRelayGone(this.hub, ws, how);
  }

  // ---- the alarm --------------------------------------------------------------------------------

  /**
   * Each concern acts on what is due, in the order they always did: the relay's deadlines first, so
   * a job back in the queue goes out again at once and what changed is in the outbox before the
   * outbox is delivered, in this same alarm. The next alarm is set before the network is touched,
   * so a hub evicted mid-delivery still wakes for the relay's deadlines.
   */
  override async alarm(): Promise<void> {
    const now = this.schedule.fired();
    expireAckTimeouts(this.hub, now);
    expireLeases(this.hub, now);
    closeSilentRelays(this.hub, now);
    expireFreeze(this.hub, now);
    reopenWaiting(this.hub, now);
    this.hub.pump();
    this.schedule.rescheduleUpcoming(now);
    this.hub.changed();
    await deliverOutward(this.hub, (at) => this.schedule.wakeAt(at));
    this.schedule.reschedule();
  }

  // ---- what changed -----------------------------------------------------------------------------

  /** Something a status page shows changed: the outside world may need to hear of it too (the outbox), and watching pages refresh. */
  private changed(): void {
    announce(this.hub);
    notifyWatchers(this.hub);
  }
}

