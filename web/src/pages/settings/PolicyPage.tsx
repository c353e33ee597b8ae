/* The province's deadlines as data (SPEC §3's table): the policy in force, one rule per step
 * (calendar or working days, counted from what, rolled past a day off or not, and the article
 * it comes from); the system administrator takes one of the five seeds' presets or edits the
 * rules, and every open deadline is counted again (the reply says how many). */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { Alert, Button, Card, Checkbox, Input, InputNumber, Modal, Select, Space, Table, Typography, App as AntApp } from 'antd';
import { useEffect, useState } from 'react';
import { errorText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { AllowanceUnit, CountFrom, PolicySchema, StepKind, StepRuleSchema, Transfers, type Policy, type StepRule } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { useSession } from '../../session';

/* Every step a rule may be given for, in the table's order (a secondment ends on its own date). */
const STEPS = [StepKind.NEW_RECORD, StepKind.STATE_UPDATE, StepKind.VERIFY_DECLARATION, StepKind.LEAVING, StepKind.MOVE_INSIDE, StepKind.SEND,
  StepKind.RECEIVE, StepKind.FORWARD, StepKind.SEND_OUT, StepKind.ANSWER_REQUEST];

/* One row per step: the policy's rule, or "no deadline" where it has none. */
export function rulesOf(p: Policy | undefined): StepRule[] {
  return STEPS.map((step) => p?.rules.find((r) => r.step === step) ?? create(StepRuleSchema, { step, unit: AllowanceUnit.NONE, from: CountFrom.EFFECTIVE_DATE }));
}

export function PolicyPage() {
  const s = useSession();
  const q = useQuery(Transfers.method.getPolicy, {});
  const presets = useQuery(Transfers.method.listPolicyPresets, {});
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [rules, setRules] = useState<StepRule[]>([]);
  const [alertDays, setAlertDays] = useState(0);
  const [preset, setPreset] = useState<string>('');
  const [confirm, setConfirm] = useState<'preset' | 'custom' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const p = q.data?.policy;
  const admin = s.rights.manageUnits;

  useEffect(() => {
    setRules(rulesOf(p));
    setAlertDays(p?.secondmentAlertDays ?? 0);
  }, [p]);

  const change = (i: number, patch: Partial<StepRule>) => setRules((rs) => rs.map((r, j) => (j === i ? create(StepRuleSchema, { ...r, ...patch }) : r)));

  const save = async () => {
    if (!p || !confirm) return;
    setBusy(true);
    setError(null);
    try {
      const client = createClient(Transfers, transport);
      const r = confirm === 'preset'
        ? await client.setPolicy({ presetId: preset, expectedVersion: p.version, requestId: crypto.randomUUID() })
        : await client.setPolicy({
          policy: create(PolicySchema, { id: 'custom', name: vi.policy.custom, rules: rules.filter((x) => x.unit !== AllowanceUnit.NONE).map((x) => ({ ...x, basis: x.basis.normalize('NFC') })), secondmentAlertDays: alertDays }),
          expectedVersion: p.version, requestId: crypto.randomUUID(),
        });
      void message.success(vi.policy.saved(r.deadlinesRecomputed));
      setConfirm(null);
      await invalidate(Transfers);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.policy.title }]} title={vi.policy.title}>
      <ErrorBanner error={q.error ?? presets.error} />
      {p && (
        <Typography.Paragraph>
          {vi.policy.current}: <b>{p.name}</b> · {vi.dossier.version} {String(p.version)} · {vi.policy.updated}: {timeText(p.updatedAt)}
        </Typography.Paragraph>
      )}
      {admin && (
        <Card size="small" style={{ marginBottom: 12 }}>
          <Space wrap>
            <span>{vi.policy.preset}:</span>
            <Select aria-label={vi.policy.preset} style={{ width: 340 }} value={preset || undefined} onChange={setPreset}
              options={(presets.data?.presets ?? []).map((x) => ({ value: x.id, label: x.name }))} />
            <Button disabled={!preset} onClick={() => setConfirm('preset')}>{vi.policy.applyPreset}</Button>
          </Space>
        </Card>
      )}
      <Table<StepRule> rowKey={(r) => String(r.step)} size="small" pagination={false} dataSource={rules} scroll={{ x: 1000 }}
        columns={[
          { title: vi.policy.step, dataIndex: 'step', render: (k: StepKind) => vi.stepKind[k] },
          { title: vi.policy.unit, dataIndex: 'unit', width: 170, render: (u: AllowanceUnit, _r, i) => (admin
            ? <Select aria-label={`${vi.policy.unit}: ${vi.stepKind[rules[i].step]}`} value={u} style={{ width: 160 }} onChange={(v: AllowanceUnit) => change(i, { unit: v, days: v === AllowanceUnit.NONE ? 0 : rules[i].days || 1 })}
              options={[AllowanceUnit.NONE, AllowanceUnit.CALENDAR_DAYS, AllowanceUnit.WORKING_DAYS].map((x) => ({ value: x, label: vi.policy.units[x] }))} />
            : vi.policy.units[u]) },
          { title: vi.policy.days, dataIndex: 'days', width: 110, render: (d: number, r, i) => (admin
            ? <InputNumber aria-label={`${vi.policy.days}: ${vi.stepKind[r.step]}`} min={1} max={365} value={r.unit === AllowanceUnit.NONE ? null : d} disabled={r.unit === AllowanceUnit.NONE} onChange={(v) => change(i, { days: Number(v ?? 1) })} style={{ width: 90 }} />
            : r.unit === AllowanceUnit.NONE ? vi.common.none : d) },
          { title: vi.policy.from, dataIndex: 'from', width: 220, render: (f: CountFrom, r, i) => (admin
            ? <Select aria-label={`${vi.policy.from}: ${vi.stepKind[r.step]}`} value={f || CountFrom.EFFECTIVE_DATE} style={{ width: 210 }} disabled={r.unit === AllowanceUnit.NONE} onChange={(v: CountFrom) => change(i, { from: v })}
              options={[CountFrom.EFFECTIVE_DATE, CountFrom.PREVIOUS_STEP].map((x) => ({ value: x, label: vi.policy.froms[x] }))} />
            : vi.policy.froms[f]) },
          { title: vi.policy.roll, dataIndex: 'rollToWorkingDay', width: 200, render: (v: boolean, r, i) => (
            <Checkbox aria-label={`${vi.policy.roll}: ${vi.stepKind[r.step]}`} checked={v} disabled={!admin || r.unit !== AllowanceUnit.CALENDAR_DAYS} onChange={(e) => change(i, { rollToWorkingDay: e.target.checked })} />) },
          { title: vi.policy.basis, dataIndex: 'basis', render: (b: string, r, i) => (admin
            ? <Input aria-label={`${vi.policy.basis}: ${vi.stepKind[r.step]}`} value={b} onChange={(e) => change(i, { basis: e.target.value })} placeholder="001 Đ10.2" />
            : b) },
        ]} />
      <Space style={{ marginTop: 12 }} wrap>
        <span>{vi.policy.alertDays}:</span>
        <InputNumber aria-label={vi.policy.alertDays} min={0} max={60} value={alertDays} disabled={!admin} onChange={(v) => setAlertDays(Number(v ?? 0))} />
        {admin && <Button type="primary" onClick={() => setConfirm('custom')}>{vi.policy.save}</Button>}
      </Space>
      <Modal open={confirm !== null} title={confirm === 'preset' ? vi.policy.preset : vi.policy.save} okText={vi.common.confirm} cancelText={vi.common.cancel}
        confirmLoading={busy} onOk={() => void save()} onCancel={() => { setConfirm(null); setError(null); }}>
        <Alert type="warning" showIcon message={vi.policy.confirmPreset} style={{ marginBottom: 12 }} />
        {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} />}
      </Modal>
    </Page>
  );
}
