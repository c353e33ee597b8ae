/* Pieces the transfer screens share: the state as a coloured tag, the days left of a step
 * (red once overdue, orange on its last days), the decision in one line. */
import { Tag, Typography } from 'antd';
import { TransferState, type Decision } from '../../api/gen/transfers_pb';
import { vi } from '../../i18n/vi';
import { dateText } from '../../lib/format';
import { daysLeftText } from '../../lib/transfers';

const STATE_COLOR: Partial<Record<TransferState, string>> = {
  [TransferState.REQUESTED]: 'purple', [TransferState.STARTED]: 'gold', [TransferState.SENT]: 'blue', [TransferState.RECEIVED]: 'cyan',
  [TransferState.FORWARDED]: 'blue', [TransferState.COMPLETED]: 'green', [TransferState.REJECTED]: 'red', [TransferState.REFUSED]: 'red',
  [TransferState.CANCELLED]: 'default', [TransferState.SECONDED]: 'geekblue', [TransferState.ENDED]: 'default', [TransferState.EXPORTED]: 'green',
  [TransferState.IMPORTED]: 'green',
};

export function StateTag({ state }: { state: TransferState }) {
  return <Tag color={STATE_COLOR[state] ?? 'default'}>{vi.trState[state]}</Tag>;
}

export function DaysLeft({ dueDate, left, overdue, estimated }: { dueDate: string; left: number; overdue: boolean; estimated?: boolean }) {
  if (!dueDate) return <Typography.Text type="secondary">{vi.days.none}</Typography.Text>;
  const color = overdue ? 'red' : left <= 1 ? 'orange' : 'default';
  return (
    <span>
      <Tag color={color}>{daysLeftText(dueDate, left)}</Tag>
      <Typography.Text type="secondary">{dateText(dueDate)}{estimated ? ` (${vi.tr.estimated})` : ''}</Typography.Text>
    </span>
  );
}

export function DecisionText({ d }: { d?: Decision }) {
  if (!d || !d.number) return <Typography.Text type="secondary">{vi.common.none}</Typography.Text>;
  return <>{d.number} · {vi.common.decisionDate.toLowerCase()} {dateText(d.date)} · {vi.common.effectiveDate.toLowerCase()} {dateText(d.effectiveDate)}{d.issuer ? ` · ${d.issuer}` : ''}</>;
}
