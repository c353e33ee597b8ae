/* "My work": what waits for this person — records awaiting approval (unit administrators),
 * change requests to verify with their deadline, drafts and returned records (updaters), the
 * transfers in the unit's inbox, the deadlines due this week or overdue (ListDeadlines) and the
 * alerts falling due (ListAlerts). Review-campaign notices get their section when campaigns
 * exist; until then the place says so, without a fake list. */
import { useQuery } from '@connectrpc/connect-query';
import { Card, Col, List, Row, Tag, Typography } from 'antd';
import { Link } from 'react-router-dom';
import { ChangeRequestState, Records, WorkflowState } from '../../api/gen/records_pb';
import { Reporting } from '../../api/gen/reporting_pb';
import { Box, Transfers, TransferState } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { dateText, timeText, totalText } from '../../lib/format';
import { dueByWeekEnd } from '../../lib/transfers';
import { useSession } from '../../session';
import { AlertDays, alertLink, alertText } from '../reports/AlertsPage';
import { deadlineLink } from '../transfers/DeadlinesPage';
import { DaysLeft, StateTag } from '../transfers/parts';

function RecordList({ states, title }: { states: WorkflowState[]; title: string }) {
  const q = useQuery(Records.method.searchRecords, { workflowStates: states, order: 3, pageSize: 10 });
  return (
    <Card title={<>{title} {q.data && <Tag>{totalText(q.data)}</Tag>}</>} size="small" extra={<Link to={`/records?wf=${states.join(',')}&order=3`}>{vi.common.details}</Link>}>
      <ErrorBanner error={q.error} />
      <List size="small" loading={q.isLoading} dataSource={q.data?.records ?? []} locale={{ emptyText: vi.home.nothing }}
        renderItem={(r) => <List.Item><Link to={`/records/${r.id}`}>{r.fullName}</Link><span>{dateText(r.birthDate)} · {timeText(r.updatedAt)}</span></List.Item>} />
    </Card>
  );
}

function ChangeRequestList() {
  const q = useQuery(Records.method.listChangeRequests, { state: ChangeRequestState.PENDING, pageSize: 10 });
  return (
    <Card title={vi.home.changeRequests} size="small" extra={<Link to="/change-requests">{vi.common.details}</Link>}>
      <ErrorBanner error={q.error} />
      <List size="small" loading={q.isLoading} dataSource={q.data?.changeRequests ?? []} locale={{ emptyText: vi.home.nothing }}
        renderItem={(c) => <List.Item><Link to={`/change-requests?id=${c.id}`}>{c.proposed?.fullName ?? c.recordId}</Link><span>{vi.home.due}: {timeText(c.dueAt)}</span></List.Item>} />
    </Card>
  );
}

const INBOX_WORK = [TransferState.SENT, TransferState.RECEIVED, TransferState.FORWARDED];

function TransferInbox() {
  // what the unit itself must do: receive or forward what was sent to it (not what still waits
  // on a sender), and answer the pulls asked of it — which ListTransfers files in the asked
  // unit's outbox (it is the sending side), not its inbox
  const q = useQuery(Transfers.method.listTransfers, { box: Box.INBOX, states: INBOX_WORK, pageSize: 10 });
  const pulls = useQuery(Transfers.method.listTransfers, { box: Box.OUTBOX, states: [TransferState.REQUESTED], pageSize: 10 });
  const rows = [...(pulls.data?.transfers ?? []), ...(q.data?.transfers ?? [])].sort((a, b) => (a.dueDate || '9') < (b.dueDate || '9') ? -1 : 1).slice(0, 10);
  return (
    <Card title={vi.home.inbox} size="small" extra={<Link to="/transfers">{vi.common.details}</Link>}>
      <ErrorBanner error={q.error ?? pulls.error} />
      <List size="small" loading={q.isLoading || pulls.isLoading} dataSource={rows} locale={{ emptyText: vi.home.nothing }}
        renderItem={(t) => (
          <List.Item>
            <span><Link to={`/transfers/${t.id}`}>{t.recordName || t.recordId}</Link> <StateTag state={t.state} /></span>
            <DaysLeft dueDate={t.dueDate} left={t.workingDaysLeft} overdue={t.overdue} />
          </List.Item>
        )} />
    </Card>
  );
}

/* Open steps are listed by due date, overdue first: the first page holds this week's. */
function WeekDeadlines() {
  const q = useQuery(Transfers.method.listDeadlines, { pageSize: 100 });
  const due = q.data ? dueByWeekEnd(q.data.deadlines, q.data.today) : [];
  return (
    <Card title={<>{vi.deadlines.week} {q.data && <Tag color={due.some((d) => d.overdue) ? 'red' : 'default'}>{due.length}{q.data.nextPageToken && due.length === q.data.deadlines.length ? '+' : ''}</Tag>}</>}
      size="small" extra={<Link to="/deadlines">{vi.common.details}</Link>}>
      <ErrorBanner error={q.error} />
      <List size="small" loading={q.isLoading} dataSource={due.slice(0, 10)} locale={{ emptyText: vi.deadlines.none }}
        renderItem={(d) => (
          <List.Item>
            <span><Link to={deadlineLink(d)}>{vi.stepKind[d.step]}</Link>: {d.recordName}</span>
            <DaysLeft dueDate={d.dueDate} left={d.workingDaysLeft} overdue={d.overdue} estimated={d.estimated} />
          </List.Item>
        )} />
    </Card>
  );
}

/* The alerts falling due soonest (and the overdue ones) of the viewer's unit. */
function HomeAlerts() {
  const q = useQuery(Reporting.method.listAlerts, { pageSize: 8 });
  return (
    <Card title={vi.rep.homeAlerts} size="small" extra={<Link to="/reports/alerts">{vi.common.details}</Link>}>
      <ErrorBanner error={q.error} />
      <List size="small" loading={q.isLoading} dataSource={q.data?.alerts ?? []} locale={{ emptyText: vi.rep.noAlerts }}
        renderItem={(a) => (
          <List.Item>
            <span><Link to={alertLink(a)}>{alertText(a)}</Link>: {a.fullName}</span>
            <AlertDays a={a} />
          </List.Item>
        )} />
    </Card>
  );
}

/* The sections of services still to come: named, so the page's shape is known, with no list. */
function Later({ titles }: { titles: string[] }) {
  return (
    <Card size="small" title={vi.home.comingTitle}>
      <List size="small" dataSource={titles} renderItem={(t) => <List.Item><span>{t}</span><Typography.Text type="secondary">{vi.home.later}</Typography.Text></List.Item>} />
    </Card>
  );
}

export function HomePage() {
  const s = useSession();
  const r = s.rights;
  return (
    <Page title={`${vi.home.title} — ${s.account?.fullName ?? ''}`}>
      <Row gutter={[16, 16]}>
        {r.approve && <Col xs={24} lg={12}><RecordList states={[WorkflowState.SUBMITTED]} title={vi.home.awaitingApproval} /></Col>}
        {r.approve && <Col xs={24} lg={12}><ChangeRequestList /></Col>}
        {r.update && <Col xs={24} lg={12}><RecordList states={[WorkflowState.DRAFT, WorkflowState.REJECTED]} title={vi.home.drafts} /></Col>}
        {r.self && !r.read && <Col xs={24}><Card size="small"><Typography.Paragraph>{vi.home.selfHint}</Typography.Paragraph><Link to="/me">{vi.menu.myRecord}</Link> · <Link to="/me/declare">{vi.cr.title}</Link></Card></Col>}
        {r.read && <Col xs={24} lg={12}><WeekDeadlines /></Col>}
        {r.read && <Col xs={24} lg={12}><TransferInbox /></Col>}
        {r.read && <Col xs={24} lg={12}><HomeAlerts /></Col>}
        {r.read && <Col xs={24} lg={12}><Later titles={[vi.home.campaigns]} /></Col>}
      </Row>
    </Page>
  );
}
