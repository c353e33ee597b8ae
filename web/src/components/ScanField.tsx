/* A scan chosen for a request that carries it (a transfer's decision, a pull's letter): the
 * file is only picked here, checked for type and size (3 MB, the transfers service's limit),
 * and sent inside the call itself. Its value is the File. */
import { PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import { Button, Space, Typography, Upload } from 'antd';
import { useState } from 'react';
import { vi } from '../i18n/vi';
import { numberText } from '../lib/format';
import { precheckScan } from '../lib/upload';

export function ScanField(props: { value?: File; onChange?: (f: File | undefined) => void; id?: string; 'aria-label'?: string }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <Space direction="vertical" size={4}>
      <Upload accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" showUploadList={false} maxCount={1}
        beforeUpload={(f) => {
          const bad = precheckScan(f);
          setError(bad ? vi.dossier[bad] : null);
          props.onChange?.(bad ? undefined : f);
          return false;
        }}>
        <Button id={props.id} aria-label={props['aria-label']} icon={<UploadOutlined />}>{vi.tr.chooseFile}</Button>
      </Upload>
      {props.value && <Typography.Text><PaperClipOutlined /> {props.value.name} ({numberText(props.value.size)} byte)</Typography.Text>}
      {error && <Typography.Text type="danger" role="alert">{error}</Typography.Text>}
    </Space>
  );
}
