/* Login: the gateway answers Login by setting the HttpOnly session cookie; the page keeps no
 * token. Why the last session ended (expired, logged out) is said here. */
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { errorText } from '../../api/errors';
import { vi } from '../../i18n/vi';
import { identity, useSession } from '../../session';

export function LoginPage() {
  const s = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onFinish = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await identity.login({ username: v.username.trim(), password: v.password });
      await s.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="hoso-login">
      <Card className="hoso-login-card">
        <Typography.Title level={3} style={{ marginTop: 0 }}>{vi.app.name}</Typography.Title>
        <Typography.Paragraph type="secondary">{vi.app.full}</Typography.Paragraph>
        {s.ended === 'expired' && <Alert type="warning" showIcon role="alert" message={vi.session.expired} style={{ marginBottom: 16 }} />}
        {s.ended === 'loggedOut' && <Alert type="info" showIcon message={vi.session.loggedOut} style={{ marginBottom: 16 }} />}
        {error !== null && <Alert type="error" showIcon role="alert" message={vi.session.loginFailed} description={errorText(error)} style={{ marginBottom: 16 }} />}
        <Form layout="vertical" onFinish={(v: { username: string; password: string }) => void onFinish(v)} requiredMark={false}>
          <Form.Item name="username" label={vi.session.username} rules={[{ required: true, message: vi.errors.required }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={vi.session.password} rules={[{ required: true, message: vi.errors.required }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>{vi.session.login}</Button>
        </Form>
      </Card>
    </div>
  );
}
