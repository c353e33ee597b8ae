/* Taking in a transfer package from outside the system (000 Đ9.3, 004 Đ9.2): the file chosen
 * here, its signature and every part checked by the transfers service, then the person's
 * dossier made as a draft of the chosen unit, with its history. */
import { UploadOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Modal, Progress, Typography, Upload, App as AntApp } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useInvalidate } from '../../api/hooks';
import { Transfers } from '../../api/gen/transfers_pb';
import { Records } from '../../api/gen/records_pb';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { fileErrorText, importPackage } from '../../lib/streams';

export function ImportPackage({ open, onClose }: { open: boolean; onClose: () => void }) {
  const invalidate = useInvalidate();
  const nav = useNavigate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<{ unitId: string; note?: string }>();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [pct, setPct] = useState<number | null>(null);

  const run = async () => {
    const v = await form.validateFields().catch(() => null);
    if (!v || !file) return;
    setBusy(true);
    setError(null);
    try {
      setPct(0);
      const r = await importPackage(file, v.unitId, v.note ?? '', setPct);
      void message.success(vi.tr.imported);
      await invalidate(Transfers, Records);
      onClose();
      nav(`/records/${r.recordId}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setPct(null);
    }
  };

  return (
    <Modal open={open} title={vi.tr.importPkg} okText={vi.common.confirm} cancelText={vi.common.cancel} confirmLoading={busy}
      okButtonProps={{ disabled: !file }} onOk={() => void run()} onCancel={onClose} destroyOnClose>
      <Typography.Paragraph type="secondary">{vi.tr.importHint}</Typography.Paragraph>
      {error !== null && <Alert type="error" showIcon role="alert" message={fileErrorText(error, vi.files.packageTooLarge)} style={{ marginBottom: 12 }} />}
      {pct !== null && <Progress aria-label={vi.tr.package} percent={pct} status="active" format={(p) => vi.files.sent(p ?? 0)} />}
      <Form form={form} layout="vertical" preserve={false}>
        <Form.Item label={vi.tr.package} required>
          <Upload accept=".hspkg,application/octet-stream" showUploadList={false} beforeUpload={(f) => { setFile(f); return false; }}>
            <Button icon={<UploadOutlined />} aria-label={vi.tr.package}>{vi.tr.chooseFile}</Button>
          </Upload>
          {file && <div>{file.name} ({numberText(file.size)} byte)</div>}
        </Form.Item>
        <Form.Item name="unitId" label={vi.tr.importUnit} rules={[{ required: true, message: vi.errors.required }]}><UnitSelect /></Form.Item>
        <Form.Item name="note" label={vi.tr.note}><Input.TextArea rows={2} /></Form.Item>
      </Form>
    </Modal>
  );
}
