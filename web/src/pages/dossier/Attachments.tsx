/* A record's scanned documents: the list, an upload with progress (PDF/JPEG/PNG up to 20 MB),
 * a preview inside the page (the PDF in a frame of our own origin, an image as an image) and
 * a download with the file's own name. */
import { useQuery } from '@connectrpc/connect-query';
import { DownloadOutlined, EyeOutlined, UploadOutlined } from '@ant-design/icons';
import { Alert, Button, Input, Modal, Progress, Space, Table, Upload, App as AntApp } from 'antd';
import { useState } from 'react';
import { codeText, ruleText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Records, type AttachmentMeta } from '../../api/gen/records_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { vi } from '../../i18n/vi';
import { numberText, timeText } from '../../lib/format';
import { attachmentUrl, precheck, uploadAttachment, type UploadError } from '../../lib/upload';
import type { Code } from '@connectrpc/connect';

export function uploadErrorText(e: UploadError): string {
  if (e.status === 413) return vi.dossier.tooLarge;
  const code = Number(e.code);
  const head = Number.isInteger(code) && code > 0 ? codeText(code as Code) : vi.codes.Unavailable;
  return e.message && e.status !== 0 ? `${head}: ${ruleText(e.message)}` : head;
}

export function Attachments({ recordId, canUpload }: { recordId: string; canUpload: boolean }) {
  const q = useQuery(Records.method.listAttachments, { recordId });
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [pct, setPct] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [description, setDescription] = useState('');
  const [preview, setPreview] = useState<AttachmentMeta | null>(null);

  const send = async (file: File) => {
    setError(null);
    const pre = precheck(file);
    if (pre) {
      setError(vi.dossier[pre]);
      return;
    }
    setPct(0);
    try {
      await uploadAttachment(recordId, file, description, setPct);
      void message.success(vi.dossier.uploaded);
      setDescription('');
      await invalidate(Records);
    } catch (e) {
      setError(uploadErrorText(e as UploadError));
    } finally {
      setPct(null);
    }
  };

  return (
    <>
      {canUpload && (
        <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }}>
          <Space wrap>
            <Input placeholder={vi.dossier.description} aria-label={vi.dossier.description} value={description} onChange={(e) => setDescription(e.target.value)} style={{ width: 360 }} />
            <Upload accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" showUploadList={false} beforeUpload={(f) => { void send(f); return false; }}>
              <Button icon={<UploadOutlined />} disabled={pct !== null}>{vi.dossier.upload}</Button>
            </Upload>
          </Space>
          {pct !== null && <Progress percent={pct} status="active" aria-label="Tiến độ tải lên" />}
          {error && <Alert type="error" showIcon role="alert" message={error} />}
        </Space>
      )}
      <ErrorBanner error={q.error} />
      <Table<AttachmentMeta> rowKey="id" size="small" pagination={false} dataSource={q.data?.attachments ?? []} loading={q.isLoading}
        locale={{ emptyText: vi.common.empty }}
        columns={[
          { title: 'Tên tệp', dataIndex: 'fileName' },
          { title: vi.dossier.description, dataIndex: 'description' },
          { title: 'Loại', dataIndex: 'contentType', width: 130 },
          { title: 'Dung lượng', dataIndex: 'size', width: 120, render: (v: bigint) => `${numberText(v)} byte` },
          { title: 'Ngày tải lên', dataIndex: 'uploadedAt', width: 150, render: (v: string) => timeText(v) },
          { title: vi.common.actions, key: 'a', width: 180, render: (_: unknown, a: AttachmentMeta) => (
            <Space>
              <Button size="small" icon={<EyeOutlined />} onClick={() => setPreview(a)}>{vi.dossier.preview}</Button>
              <Button size="small" icon={<DownloadOutlined />} href={attachmentUrl(a.id, false)}>{vi.common.download}</Button>
            </Space>) },
        ]} />
      <Modal open={!!preview} title={preview?.fileName} width={960} footer={null} onCancel={() => setPreview(null)} destroyOnClose>
        {preview && (preview.contentType === 'application/pdf'
          ? <iframe className="hoso-preview" title={preview.fileName} src={attachmentUrl(preview.id, true)} />
          : <img className="hoso-preview-img" alt={preview.fileName} src={attachmentUrl(preview.id, true)} />)}
      </Modal>
    </>
  );
}
