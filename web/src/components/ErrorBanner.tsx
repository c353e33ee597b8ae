/* A service's error where the page shows it, in Vietnamese (api/errors.ts). */
import { Alert } from 'antd';
import { errorText } from '../api/errors';

export function ErrorBanner({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return <Alert type="error" showIcon role="alert" message={title ?? errorText(error)} description={title ? errorText(error) : undefined} style={{ marginBottom: 12 }} />;
}
