/* Editing a dossier (or making a new one): every section of form 2C as a tab of one form; a
 * refusal naming a field (INVALID_ARGUMENT "record.salary.step: …") is shown on that field and
 * its tab is opened; a stale edit (ABORTED: someone saved first) is explained with what they
 * changed meanwhile, and the person reloads before saving again. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { Code } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { Alert, Button, Form, Input, Space, Tabs, App as AntApp, Card } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { errorText, fieldErrors, isCode } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Records, RecordSchema, type RecordVersion, type Record as Rec } from '../../api/gen/records_pb';
import { UnitSelect } from '../../components/Pickers';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { SECTIONS } from './schema';
import { SectionEdit } from './fields';
import { ChangeList } from './Versions';

type Values = Rec & { changeReason?: string };

/* The section whose tab holds a field path (its first segment). */
export function sectionOf(path: (string | number)[]): string | undefined {
  const head = String(path[0]);
  return SECTIONS.find((s) => s.fields.some((f) => f.path[0] === head || f.path.join('.') === path.join('.')) || s.histories.some((h) => h.key === head))?.key;
}

export function RecordEditPage() {
  const { id } = useParams();
  const isNew = !id;
  const nav = useNavigate();
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const q = useQuery(Records.method.getRecord, { recordId: id ?? '' }, { enabled: !isNew, staleTime: 0 });
  const [form] = Form.useForm();
  const [tab, setTab] = useState(SECTIONS[0].key);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [stale, setStale] = useState<RecordVersion[] | null>(null);
  const [unitId, setUnitId] = useState('');
  const base = q.data?.record;
  const client = useMemo(() => createClient(Records, transport), [transport]);

  // The form opens for typing only once the record's values are in it: enabled a render earlier,
  // what a person (or a browser test) typed first was kept and the loaded value put before it
  // ("Bắc GiangThành phố Bắc Giang", seen in the stale-edit scenario).
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (!base) return;
    form.setFieldsValue(base);
    setReady(true);
  }, [base, form]);

  const save = async () => {
    setError(null);
    let v: Values;
    try {
      v = form.getFieldsValue(true) as Values;
      await form.validateFields();
    } catch {
      return;
    }
    const { changeReason, ...rest } = v;
    setBusy(true);
    try {
      if (isNew) {
        const rec = create(RecordSchema, { ...rest, managingUnitId: unitId });
        const r = await client.createRecord({ record: rec, requestId: crypto.randomUUID() });
        void message.success(vi.dossier.created);
        await invalidate(Records);
        nav(`/records/${r.record?.id ?? ''}`);
        return;
      }
      if (!base) return;
      const rec = create(RecordSchema, { ...base, ...rest, id: base.id });
      await client.updateRecord({ record: rec, expectedVersion: base.version, reason: { text: changeReason ?? '' }, requestId: crypto.randomUUID() });
      void message.success(vi.common.saved);
      await invalidate(Records);
      nav(`/records/${base.id}`);
    } catch (e) {
      if (isCode(e, Code.Aborted) && base) {
        const vs = await client.listRecordVersions({ recordId: base.id, pageSize: 50 }).catch(() => null);
        setStale(vs ? vs.versions.filter((x) => x.version > base.version) : []);
        return;
      }
      const fe = fieldErrors(e);
      if (fe) {
        form.setFields(fe);
        const sec = sectionOf(fe[0].name);
        if (sec) setTab(sec);
        setTimeout(() => form.scrollToField(fe[0].name, { block: 'center' }), 50);
      }
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const reload = async () => {
    setStale(null);
    setError(null);
    await q.refetch();
  };

  const title = isNew ? vi.records.create : `${vi.dossier.edit}: ${base?.fullName ?? ''}`;
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.records.title, to: '/records' }, ...(base ? [{ title: base.fullName, to: `/records/${base.id}` }] : []), { title: vi.dossier.edit }]}
      title={title}
      extra={<Space><Button onClick={() => nav(isNew ? '/records' : `/records/${id}`)}>{vi.common.cancel}</Button><Button type="primary" loading={busy} onClick={() => void save()}>{vi.common.save}</Button></Space>}>
      <ErrorBanner error={q.error} />
      {stale && (
        <Alert type="warning" showIcon role="alert" style={{ marginBottom: 12 }} message={vi.dossier.staleTitle}
          description={<>
            <p>{vi.errors.stale}</p>
            {stale.map((x) => <div key={String(x.version)}><b>{vi.dossier.version} {String(x.version)}</b> · {timeText(x.changedAt)} · {x.changedByName || x.changedBy}<ChangeList changes={x.changes} /></div>)}
            <Button type="primary" onClick={() => void reload()}>{vi.dossier.reload}</Button>
          </>} />
      )}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      {isNew && <Card size="small" style={{ marginBottom: 12 }}><Space>{vi.dossier.managingUnit}: <UnitSelect value={unitId} onChange={setUnitId} aria-label={vi.dossier.managingUnit} /></Space></Card>}
      <Form form={form} layout="vertical" disabled={!isNew && !ready}>
        <Tabs activeKey={tab} onChange={setTab} items={SECTIONS.map((s) => ({ key: s.key, label: <span title={s.title}>{s.tab}</span>, forceRender: true, children: <SectionEdit section={s} /> }))} />
        {!isNew && <Form.Item name="changeReason" label={vi.dossier.changeReason}><Input.TextArea rows={2} /></Form.Item>}
      </Form>
    </Page>
  );
}
