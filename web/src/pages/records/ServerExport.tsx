/* The whole search result as a file made by the reporting service (ExportSearch): the officer
 * picks the columns (in the order shown) and the format, then follows the rows being read and
 * the file arriving, and may cancel. */
import { create, toJson } from '@bufbuild/protobuf';
import { FileExcelOutlined } from '@ant-design/icons';
import { Alert, Button, Checkbox, Form, Modal, Radio, App as AntApp } from 'antd';
import { useState } from 'react';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { SearchRecordsRequestSchema } from '../../api/gen/records_pb';
import { ExportSearchRequestSchema, Format } from '../../api/gen/reporting_pb';
import { DownloadProgress, useDownload } from '../../components/DownloadProgress';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { exportSearchFile, fileErrorText, isCancelled, saveFile } from '../../lib/streams';

const COLUMNS = Object.keys(vi.rep.columns);
// what ExportSearch writes when given no columns (reporting/rpc_export.c)
const DEFAULT_COLUMNS = ['full_name', 'birth_date', 'gender', 'unit', 'rank_code', 'position_code', 'degree_code', 'status'];

interface Choice {
  columns: string[];
  format: Format;
}

export function ServerExport({ criteria, disabled }: { criteria: MessageInitShape<typeof SearchRecordsRequestSchema>; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<Choice>();
  const dl = useDownload();
  const { message } = AntApp.useApp();

  const run = async (c: Choice) => {
    setOpen(false);
    try {
      // the service writes the columns in the order given: the order of the list, not of the clicks
      const columns = COLUMNS.filter((k) => c.columns.includes(k));
      const req = create(ExportSearchRequestSchema, { criteria: { ...criteria, pageSize: 0, pageToken: '' }, columns, format: c.format });
      let rows = 0;
      const f = await dl.run((signal, progress) => exportSearchFile(toJson(ExportSearchRequestSchema, req), (p) => {
        rows = p.rowsTotal;
        // the rows read, then the file's bytes out of the size its first chunk announces
        progress(p.bytes
          ? { done: p.bytes, total: p.fileSize || null, text: vi.files.received(numberText(p.bytes), p.fileSize ? numberText(p.fileSize) : null) }
          : { done: p.rowsDone, total: p.rowsTotal || null, text: vi.files.rows(numberText(p.rowsDone), numberText(p.rowsTotal)) });
      }, signal));
      saveFile(f);
      void message.success(vi.rep.exportDone(numberText(rows), f.fileName, numberText(f.size)));
    } catch (e) {
      if (isCancelled(e)) void message.info(vi.files.cancelled);
      else void message.error(fileErrorText(e, vi.files.cut));
    }
  };

  return (
    <>
      <Button icon={<FileExcelOutlined />} onClick={() => setOpen(true)} loading={dl.state !== null} disabled={disabled}>{vi.rep.exportXlsx}</Button>
      <DownloadProgress state={dl.state} onCancel={dl.cancel} label={vi.rep.exportXlsx} waiting={vi.rep.exporting} />
      <Modal open={open} title={vi.rep.exportTitle} okText={vi.rep.exportRun} cancelText={vi.common.cancel} width={720}
        onOk={() => form.submit()} onCancel={() => setOpen(false)}>
        <Form form={form} layout="vertical" initialValues={{ columns: DEFAULT_COLUMNS, format: Format.XLSX }} onFinish={(c) => void run(c)}>
          <Form.Item name="format" label={vi.rep.format}>
            <Radio.Group options={[{ value: Format.XLSX, label: 'Excel (XLSX)' }, { value: Format.CSV, label: 'CSV' }]} />
          </Form.Item>
          <Form.Item name="columns" label={vi.rep.exportColumns} rules={[{ required: true, message: vi.rep.exportNoColumn }]}>
            <Checkbox.Group className="hoso-columns" options={COLUMNS.map((k) => ({ value: k, label: vi.rep.columns[k] }))} />
          </Form.Item>
          <Alert type="info" showIcon message={vi.rep.exportHint} />
        </Form>
      </Modal>
    </>
  );
}
