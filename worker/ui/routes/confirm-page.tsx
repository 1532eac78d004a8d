/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// What every operator action's confirmation page (GET) starts and ends with: an operator who is
// signed in (a reader who is not is sent to sign in first), and the page that names exactly what
// the POST will do. The actions themselves live with their concern (actions, capture, freeze,
// restart-window).
import type { TargetConfig } from '../../config/targets.ts';
import { requireRole } from '../../http/access.ts';
import { page, signInFirst, visit, type UiContext, type Visit } from '../page-context.tsx';
import { ConfirmPage, type Confirmation } from '../views/forms.tsx';

/** An operator's visit to a confirmation page; a reader who is not signed in is sent to sign in first. */
export async function operatorVisit(c: UiContext, target: TargetConfig): Promise<Visit | Response> {
  const v = await visit(c);
  if (!v.session) return signInFirst(c);
  requireRole(c, 'operator', target);
  return v;
}

/** The confirmation page of one action, for the operator of this visit. */
export function confirmPage(c: UiContext, v: Visit, confirmation: Confirmation) {
  return page(c, v.nonce, <ConfirmPage confirmation={confirmation} csrf={v.viewer.csrf ?? ''} viewer={v.viewer} nonce={v.nonce} />);
}
