/* Change of password: forced at the first login (the token allows nothing else) or asked for.
 * The gateway replaces the session cookies with the fresh tokens ChangePassword returns. */
import { Alert, Button, Card, Form, Input, Typography, App as AntApp } from 'antd';
import { useState } from 'react';
import { errorText } from '../../api/errors';
import { vi } from '../../i18n/vi';
import { identity, useSession } from '../../session';

interface Values {
  oldPassword: string;
  newPassword: string;
  confirm: string;
}

export function ChangePasswordPage({ forced = false }: { forced?: boolean }) {
  const s = useSession();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onFinish = async (v: Values) => {
    setBusy(true);
    setError(null);
    try {
      await identity.changePassword({ oldPassword: v.oldPassword, newPassword: v.newPassword });
      void message.success(vi.session.changed);
      form.resetFields();
      await s.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const card = (
    <Card className="hoso-login-card">
      <Typography.Title level={3} style={{ marginTop: 0 }}>{vi.session.changeTitle}</Typography.Title>
      {forced && <Alert type="info" showIcon message={vi.session.mustChange} style={{ marginBottom: 16 }} />}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v: Values) => void onFinish(v)} requiredMark={false}>
        <Form.Item name="oldPassword" label={vi.session.oldPassword} rules={[{ required: true, message: vi.errors.required }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item name="newPassword" label={vi.session.newPassword} extra={vi.session.policy}
          rules={[{ required: true, message: vi.errors.required }, { min: 10, message: vi.session.policy }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="confirm" label={vi.session.confirmPassword} dependencies={['newPassword']}
          rules={[{ required: true, message: vi.errors.required },
            ({ getFieldValue }) => ({ validator: (_r, v) => (v === getFieldValue('newPassword') ? Promise.resolve() : Promise.reject(new Error(vi.session.mismatch))) })]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy}>{vi.session.change}</Button>
        {forced && <Button type="link" block onClick={() => void s.logout()}>{vi.session.logout}</Button>}
      </Form>
    </Card>
  );
  return forced ? <div className="hoso-login">{card}</div> : <div className="hoso-page">{card}</div>;
}
