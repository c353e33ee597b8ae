/* The transfer workflow as the interface offers it: which actions a person on which side may
 * take in which state (the same table as the transfers service's flow.c, which still decides),
 * the days left of a step in words, and the week the home page's deadlines fall in. Pure. */
import { TransferKind, TransferState } from '../api/gen/transfers_pb';
import { vi } from '../i18n/vi';

export type Side = 'from' | 'to' | 'final';
export type TrAction = 'approve' | 'refuse' | 'send' | 'receive' | 'reject' | 'forward' | 'cancel' | 'export';

/* States in which some side still has work. */
export const OPEN_STATES: TransferState[] = [
  TransferState.REQUESTED, TransferState.STARTED, TransferState.SENT, TransferState.RECEIVED, TransferState.FORWARDED, TransferState.SECONDED,
];

export function isOpen(s: TransferState): boolean {
  return OPEN_STATES.includes(s);
}

/* The actions of a state and whose they are (flow.c's flow_next, side by side). */
export function actionsFor(kind: TransferKind, state: TransferState, sides: ReadonlySet<Side>): TrAction[] {
  const pullOrBetween = kind === TransferKind.BETWEEN_UNITS || kind === TransferKind.PULL;
  const out: TrAction[] = [];
  const add = (side: Side, ...a: TrAction[]) => {
    if (sides.has(side)) for (const x of a) if (!out.includes(x)) out.push(x);
  };
  switch (state) {
    case TransferState.REQUESTED:
      add('from', 'approve', 'refuse');
      add('to', 'cancel');
      break;
    case TransferState.STARTED:
      add('from', 'send', 'cancel');
      break;
    case TransferState.SENT:
      if (pullOrBetween) add('to', 'receive', 'reject');
      if (kind === TransferKind.OUT_OF_SYSTEM) add('from', 'export');
      add('from', 'cancel');
      break;
    case TransferState.RECEIVED:
      add('to', 'forward', 'cancel');
      break;
    case TransferState.FORWARDED:
      add('final', 'receive', 'reject');
      add('to', 'cancel');
      break;
    case TransferState.SECONDED:
      add('from', 'cancel');
      break;
    default:
      break;
  }
  return out;
}

/* Actions that need a reason (the service refuses them without one). */
export function needsReason(a: TrAction): boolean {
  return a === 'reject' || a === 'refuse' || a === 'cancel';
}

/* "Còn 3 ngày làm việc", "Đến hạn hôm nay", "Quá hạn 2 ngày làm việc"; none without a due date. */
export function daysLeftText(dueDate: string, workingDaysLeft: number): string {
  if (!dueDate) return vi.days.none;
  if (workingDaysLeft > 0) return vi.days.left(workingDaysLeft);
  if (workingDaysLeft === 0) return vi.days.today;
  return vi.days.over(-workingDaysLeft);
}

/* The Sunday that ends the week (Monday to Sunday) of an ISO day. */
export function weekEnd(todayIso: string): string {
  const [y, m, d] = todayIso.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  const dow = t.getUTCDay() === 0 ? 7 : t.getUTCDay();
  t.setUTCDate(t.getUTCDate() + (7 - dow));
  return t.toISOString().slice(0, 10);
}

/* What "due this week or overdue" keeps: overdue ones, and those due by the week's end. */
export function dueByWeekEnd<T extends { dueDate: string; overdue: boolean }>(items: T[], todayIso: string): T[] {
  const end = weekEnd(todayIso);
  return items.filter((x) => x.overdue || (x.dueDate !== '' && x.dueDate <= end));
}
