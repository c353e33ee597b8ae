/* The working-day calendar as data, a year at a time (REFERENCE §1): the weekly rest days, the
 * weekdays off (holidays, Tết, compensatory days, swaps) and the rest days worked (làm bù).
 * Years not entered are said so (counted with weekends only, "estimated"); the system
 * administrator enters or corrects a year, and every open deadline is counted again. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Checkbox, Col, Form, Input, InputNumber, Row, Select, Space, Typography, App as AntApp } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { errorText, fieldErrors } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Transfers, type CalendarDay } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { DateField } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { useSession } from '../../session';

interface Values {
  weekend: number[];
  daysOff: { date: string; name: string }[];
  workedDays: { date: string; name: string }[];
}

function DayList({ name, title, admin }: { name: 'daysOff' | 'workedDays'; title: string; admin: boolean }) {
  return (
    <Card size="small" title={title} style={{ marginBottom: 12 }}>
      <Form.List name={name}>
        {(fields, { add, remove }) => (
          <>
            {fields.map((f, i) => (
              <Row key={f.key} gutter={8} align="middle">
                <Col xs={10} md={6}><Form.Item name={[f.name, 'date']} rules={[{ required: true, message: vi.errors.required }]} style={{ marginBottom: 8 }}>
                  <DateField aria-label={`${title}: ${vi.calendar.date} ${i + 1}`} disabled={!admin} /></Form.Item></Col>
                <Col xs={11} md={14}><Form.Item name={[f.name, 'name']} style={{ marginBottom: 8 }}>
                  <Input aria-label={`${title}: ${vi.calendar.name} ${i + 1}`} disabled={!admin} placeholder="Tết Nguyên đán" /></Form.Item></Col>
                {admin && <Col xs={3} md={4}><Button aria-label={`${vi.calendar.remove} ${i + 1}`} icon={<DeleteOutlined />} onClick={() => remove(f.name)} style={{ marginBottom: 8 }} /></Col>}
              </Row>
            ))}
            {admin && <Button icon={<PlusOutlined />} onClick={() => add({ date: '', name: '' })}>{vi.calendar.add}</Button>}
          </>
        )}
      </Form.List>
    </Card>
  );
}

const days = (v: CalendarDay[]) => v.map((d) => ({ date: d.date, name: d.name }));

export function CalendarPage() {
  const s = useSession();
  const admin = s.rights.manageUnits;
  const now = new Date().getFullYear();
  const [params, setParams] = useSearchParams();
  const year = Number(params.get('year') ?? now) || now;
  const q = useQuery(Transfers.method.listCalendar, { fromYear: Math.min(year, now - 1), toYear: Math.max(year, now + 2) });
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [other, setOther] = useState<number | null>(null);
  const entered = useMemo(() => q.data?.years.find((y) => y.year === year), [q.data, year]);
  const choices = useMemo(() => [...new Set([...(q.data?.years ?? []).map((y) => y.year), ...(q.data?.missingYears ?? []), year])].sort(), [q.data, year]);

  useEffect(() => {
    form.setFieldsValue({
      weekend: entered?.weekend.length ? entered.weekend : [6, 7],
      daysOff: entered ? days(entered.daysOff) : [],
      workedDays: entered ? days(entered.workedDays) : [],
    });
  }, [entered, form, year]);

  const save = async () => {
    const v = (await form.validateFields().catch(() => null)) as Values | null;
    if (!v) return;
    setBusy(true);
    setError(null);
    try {
      const clean = (xs: Values['daysOff']) => (xs ?? []).map((d) => ({ date: d.date, name: (d.name ?? '').trim().normalize('NFC') }));
      const r = await createClient(Transfers, transport).setCalendarYear({
        calendar: { year, weekend: v.weekend, daysOff: clean(v.daysOff), workedDays: clean(v.workedDays) }, requestId: crypto.randomUUID(),
      });
      void message.success(vi.calendar.saved(r.deadlinesRecomputed));
      await invalidate(Transfers);
    } catch (e) {
      // "calendar.days_off[2].date: …" lands on that row's date
      const fe = fieldErrors(e, 'calendar');
      if (fe) form.setFields(fe);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const missing = q.data?.missingYears ?? [];
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.calendar.title }]} title={`${vi.calendar.title} ${year}`}
      extra={<Space wrap>
        <Select aria-label={vi.calendar.year} value={year} style={{ width: 120 }} onChange={(y: number) => setParams({ year: String(y) })}
          options={choices.map((y) => ({ value: y, label: `${vi.calendar.year} ${y}${missing.includes(y) ? ' *' : ''}` }))} />
        <InputNumber aria-label={vi.calendar.newYear} placeholder={vi.calendar.newYear} min={2000} max={2100} value={other} onChange={(v) => setOther(v === null ? null : Number(v))} style={{ width: 160 }} />
        <Button disabled={!other} onClick={() => other && setParams({ year: String(other) })}>{vi.common.open}</Button>
        {admin && <Button type="primary" loading={busy} onClick={() => void save()}>{vi.calendar.save}</Button>}
      </Space>}>
      <ErrorBanner error={q.error} />
      {missing.length > 0 && <Alert type="warning" showIcon message={vi.calendar.missing(missing.join(', '))} style={{ marginBottom: 12 }} />}
      {entered && <Typography.Paragraph type="secondary">{vi.calendar.count(entered.daysOff.length, entered.workedDays.length)} · {vi.policy.updated}: {timeText(entered.updatedAt)}</Typography.Paragraph>}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical">
        <Card size="small" title={vi.calendar.weekend} style={{ marginBottom: 12 }}>
          <Form.Item name="weekend" style={{ marginBottom: 0 }}>
            <Checkbox.Group disabled={!admin} options={[1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: vi.calendar.weekdays[d] }))} />
          </Form.Item>
        </Card>
        <Row gutter={16}>
          <Col xs={24} lg={14}><DayList name="daysOff" title={vi.calendar.daysOff} admin={admin} /></Col>
          <Col xs={24} lg={10}><DayList name="workedDays" title={vi.calendar.worked} admin={admin} /></Col>
        </Row>
      </Form>
    </Page>
  );
}
