/* Record search: every criterion of SearchRecords in a form whose values live in the URL, a
 * server-paged table (keyset page tokens, never the whole list), and an export of the whole
 * result to CSV, read page by page with its progress shown; or as a file the reporting service
 * makes (ServerExport). */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { DownloadOutlined, PlusOutlined, SearchOutlined } from '@ant-design/icons';
import { Button, Checkbox, Col, Collapse, Form, Input, Progress, Row, Select, Space, Table, Tag, App as AntApp } from 'antd';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useCatalog } from '../../api/hooks';
import { Records, type RecordSummary } from '../../api/gen/records_pb';
import { CatalogMultiSelect, DateField, UnitSelect } from '../../components/Pickers';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { dateText, timeText, totalText } from '../../lib/format';
import { csvLine, emptyFilters, filtersToParams, parseFilters, toRequest, type Filters } from '../../lib/searchQuery';
import { useSession } from '../../session';
import { ServerExport } from './ServerExport';

const opts = (labels: string[]) => labels.slice(1).map((label, i) => ({ value: i + 1, label }));
const wfColor = ['default', 'default', 'gold', 'green', 'red'];

export function RecordsPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseFilters(params), [params]);
  const [form] = Form.useForm<Filters>();
  const nav = useNavigate();
  const s = useSession();
  const ranks = useCatalog('RANK');
  const positions = useCatalog('POSITION');
  const q = useQuery(Records.method.searchRecords, toRequest(filters), { placeholderData: (prev) => prev });
  const [history, setHistory] = useState<string[]>([]);
  const transport = useTransport();
  const { message } = AntApp.useApp();
  const [exporting, setExporting] = useState<{ done: number; total: string } | null>(null);

  const go = (f: Filters) => setParams(filtersToParams(f));
  const submit = (v: Partial<Filters>) => {
    setHistory([]);
    go({ ...filters, ...v, pageToken: '' });
  };

  const exportCsv = async () => {
    const client = createClient(Records, transport);
    const total = q.data ? totalText(q.data) : '?';
    let token = '';
    let n = 0;
    let out = '\ufeff' + csvLine(['Họ và tên', 'Ngày sinh', 'Giới tính', 'Đối tượng', 'Ngạch', 'Chức vụ', 'Quê quán', 'Trạng thái', 'Phê duyệt', 'Mã hồ sơ']);
    setExporting({ done: 0, total });
    try {
      do {
        const r = await client.searchRecords({ ...toRequest(filters), pageSize: 500, pageToken: token });
        for (const x of r.records)
          out += csvLine([x.fullName, dateText(x.birthDate), vi.gender[x.gender], vi.category[x.category], ranks.names.get(x.rankCode) ?? x.rankCode,
            positions.names.get(x.positionCode) ?? x.positionCode, x.homeTown, vi.recordStatus[x.status], vi.workflow[x.workflowState], x.id]);
        n += r.records.length;
        setExporting({ done: n, total });
        token = r.nextPageToken;
      } while (token);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([out], { type: 'text/csv;charset=utf-8' }));
      a.download = 'ho-so.csv';
      a.click();
      URL.revokeObjectURL(a.href);
      void message.success(vi.records.exported(n));
    } catch (e) {
      void message.error(errorText(e));
    } finally {
      setExporting(null);
    }
  };

  const columns = [
    { title: 'Họ và tên', dataIndex: 'fullName', render: (v: string, r: RecordSummary) => <Link to={`/records/${r.id}`}>{v}</Link> },
    { title: vi.records.birthDate, dataIndex: 'birthDate', width: 110, render: (v: string) => dateText(v) },
    { title: vi.records.gender, dataIndex: 'gender', width: 80, render: (v: number) => vi.gender[v] },
    { title: vi.records.category, dataIndex: 'category', width: 110, render: (v: number) => vi.category[v] },
    { title: vi.records.rank, dataIndex: 'rankCode', render: (v: string) => ranks.names.get(v) ?? v },
    { title: vi.records.homeTown, dataIndex: 'homeTown', ellipsis: true },
    { title: vi.records.status, dataIndex: 'status', width: 120, render: (v: number) => vi.recordStatus[v] },
    { title: vi.records.workflow, dataIndex: 'workflowState', width: 120, render: (v: number) => <Tag color={wfColor[v]}>{vi.workflow[v]}</Tag> },
    { title: vi.records.updated, dataIndex: 'updatedAt', width: 140, render: (v: string) => timeText(v) },
  ];

  return (
    <Page
      crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.records.title }]}
      title={vi.records.title}
      extra={
        <Space>
          {s.rights.update && <Button icon={<PlusOutlined />} onClick={() => nav('/records/new')}>{vi.records.create}</Button>}
          <Button icon={<DownloadOutlined />} onClick={() => void exportCsv()} disabled={!!exporting || !q.data?.records.length}>{vi.records.export}</Button>
          {s.rights.read && <ServerExport criteria={toRequest(filters)} disabled={!q.data?.records.length} />}
        </Space>
      }
    >
      <Form form={form} layout="vertical" initialValues={{ ...emptyFilters, ...filters }} key={params.toString()} onFinish={submit}>
        <Row gutter={12}>
          <Col xs={24} md={8}><Form.Item name="name" label={vi.records.name}><Input allowClear placeholder="nguyen van an" /></Form.Item></Col>
          <Col xs={24} md={8}><Form.Item name="unitId" label={vi.records.unit}><UnitSelect /></Form.Item></Col>
          <Col xs={12} md={4}><Form.Item name="statuses" label={vi.records.status}><Select mode="multiple" allowClear options={opts(vi.recordStatus)} maxTagCount="responsive" /></Form.Item></Col>
          <Col xs={12} md={4}><Form.Item name="workflowStates" label={vi.records.workflow}><Select mode="multiple" allowClear options={opts(vi.workflow)} maxTagCount="responsive" /></Form.Item></Col>
        </Row>
        <Collapse ghost size="small" items={[{ key: 'more', label: vi.records.more, children: (
          <Row gutter={12}>
            <Col xs={24} md={8}><Form.Item name="text" label={vi.records.text}><Input allowClear /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="birthFrom" label={vi.records.birthFrom}><DateField /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="birthTo" label={vi.records.birthTo}><DateField /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="gender" label={vi.records.gender}><Select options={[{ value: 0, label: 'Tất cả' }, ...opts(vi.gender)]} /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="party" label={vi.records.party}><Select options={[{ value: 0, label: 'Tất cả' }, { value: 1, label: vi.common.yes }, { value: 2, label: vi.common.no }]} /></Form.Item></Col>
            <Col xs={12} md={6}><Form.Item name="categories" label={vi.records.category}><Select mode="multiple" allowClear options={opts(vi.category)} maxTagCount="responsive" /></Form.Item></Col>
            <Col xs={12} md={6}><Form.Item name="rankCodes" label={vi.records.rank}><CatalogMultiSelect catalog="RANK" /></Form.Item></Col>
            <Col xs={12} md={6}><Form.Item name="positionCodes" label={vi.records.position}><CatalogMultiSelect catalog="POSITION" /></Form.Item></Col>
            <Col xs={12} md={6}><Form.Item name="degreeCodes" label={vi.records.degree}><CatalogMultiSelect catalog="DEGREE" /></Form.Item></Col>
            <Col xs={12} md={6}><Form.Item name="ethnicityCodes" label={vi.records.ethnicity}><CatalogMultiSelect catalog="ETHNICITY" /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="recruitedFrom" label={vi.records.recruitedFrom}><DateField /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="recruitedTo" label={vi.records.recruitedTo}><DateField /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="order" label={vi.records.order}><Select options={vi.records.orders.slice(1).map((l, i) => ({ value: i + 1, label: l }))} /></Form.Item></Col>
            <Col xs={12} md={4}><Form.Item name="directOnly" valuePropName="checked" label=" "><Checkbox>Chỉ đơn vị đã chọn</Checkbox></Form.Item></Col>
          </Row>) }]} />
        <Space style={{ marginBottom: 12 }}>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>{vi.common.search}</Button>
          <Button onClick={() => { setHistory([]); setParams(new URLSearchParams()); }}>{vi.common.reset}</Button>
        </Space>
      </Form>
      {exporting && <Progress percent={q.data && q.data.total > 0n ? Math.min(99, Math.round((exporting.done * 100) / Number(q.data.total))) : 0} status="active" format={() => vi.records.exporting(exporting.done, exporting.total)} />}
      <ErrorBanner error={q.error} />
      <Table<RecordSummary>
        rowKey="id"
        size="middle"
        loading={q.isFetching}
        dataSource={q.data?.records ?? []}
        columns={columns}
        pagination={false}
        scroll={{ x: 1000 }}
        title={() => (q.data ? vi.common.total(totalText(q.data)) : null)}
        footer={() => (
          <Space>
            <Button disabled={!filters.pageToken} onClick={() => { setHistory([]); go({ ...filters, pageToken: '' }); }}>{vi.common.first}</Button>
            <Button disabled={!filters.pageToken} onClick={() => { const h = [...history]; const prev = h.pop() ?? ''; setHistory(h); go({ ...filters, pageToken: prev }); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, filters.pageToken]); go({ ...filters, pageToken: q.data?.nextPageToken ?? '' }); }}>{vi.common.next}</Button>
            <Select aria-label={vi.common.pageSize} value={filters.pageSize} onChange={(ps: number) => go({ ...filters, pageSize: ps, pageToken: '' })} options={[20, 50, 100].map((n) => ({ value: n, label: `${n} / trang` }))} />
          </Space>
        )}
      />
    </Page>
  );
}
