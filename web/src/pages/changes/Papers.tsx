/* A change request's supporting papers (phiếu bổ sung lý lịch, 001 Đ9.2a): the record's
 * attachments tied to the request, each previewed in the page or downloaded; the person adds
 * one while the request awaits verification. The unit that verifies reads them here. */
import { useQuery } from '@connectrpc/connect-query';
import { EyeOutlined, PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import { Button, List, Modal, Progress, Space, Typography, Upload, App as AntApp } from 'antd';
import { useState } from 'react';
import { useInvalidate } from '../../api/hooks';
import { Records, type AttachmentMeta } from '../../api/gen/records_pb';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { attachmentUrl, precheck, uploadPaper, type UploadError } from '../../lib/upload';
import { uploadErrorText } from '../dossier/Attachments';

export function PaperPreview({ a, onClose }: { a: AttachmentMeta | null; onClose: () => void }) {
  return (
    <Modal open={!!a} title={a?.fileName} width={960} footer={null} onCancel={onClose} destroyOnClose>
      {a && (a.contentType === 'application/pdf'
        ? <iframe className="hoso-preview" title={a.fileName} src={attachmentUrl(a.id, true)} />
        : <img className="hoso-preview-img" alt={a.fileName} src={attachmentUrl(a.id, true)} />)}
    </Modal>
  );
}

export function Papers({ recordId, changeRequestId, canAdd }: { recordId: string; changeRequestId: string; canAdd: boolean }) {
  const q = useQuery(Records.method.listAttachments, { recordId });
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [pct, setPct] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<AttachmentMeta | null>(null);
  const papers = (q.data?.attachments ?? []).filter((a) => a.changeRequestId === changeRequestId);

  const add = async (f: File) => {
    setError(null);
    const bad = precheck(f);
    if (bad) return setError(vi.dossier[bad]);
    setPct(0);
    try {
      await uploadPaper(recordId, changeRequestId, f, setPct);
      void message.success(vi.crDocs.uploaded);
      await invalidate(Records);
    } catch (e) {
      setError(uploadErrorText(e as UploadError));
    } finally {
      setPct(null);
    }
  };

  return (
    <div data-testid={`papers-${changeRequestId}`}>
      <Typography.Text strong>{vi.crDocs.title}:</Typography.Text>
      {papers.length === 0 && <Typography.Text type="secondary"> {vi.crDocs.none}</Typography.Text>}
      <List size="small" dataSource={papers} renderItem={(a) => (
        <List.Item actions={[
          <Button key="v" size="small" icon={<EyeOutlined />} onClick={() => setPreview(a)}>{vi.dossier.preview}</Button>,
          <Button key="d" size="small" href={attachmentUrl(a.id, false)}>{vi.common.download}</Button>,
        ]}>
          <span><PaperClipOutlined /> {a.fileName} ({numberText(a.size)} byte)</span>
        </List.Item>
      )} />
      {canAdd && (
        <Space direction="vertical">
          <Upload accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" showUploadList={false} beforeUpload={(f) => { void add(f); return false; }}>
            <Button size="small" icon={<UploadOutlined />} disabled={pct !== null}>{vi.crDocs.add}</Button>
          </Upload>
          {pct !== null && <Progress percent={pct} size="small" />}
        </Space>
      )}
      {error && <Typography.Text type="danger" role="alert">{error}</Typography.Text>}
      <PaperPreview a={preview} onClose={() => setPreview(null)} />
    </div>
  );
}
