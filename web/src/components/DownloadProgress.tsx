/* A download in progress (a package, a report's file, a search export): its percentage when the
 * total is known (Content-Length, or the rows the export counts), else the bytes received, and a
 * button that cancels it. useDownload holds the state and the AbortController of one download. */
import { StopOutlined } from '@ant-design/icons';
import { Button, Progress, Space } from 'antd';
import { useRef, useState } from 'react';
import { vi } from '../i18n/vi';
import { percentOf } from '../lib/streams';

export interface DownloadState {
  done: number;
  total: number | null;
  text: string; // what the bar says: "Đã nhận 12.345/67.890 byte", "Đã đọc 3/4 hồ sơ"
}

export function useDownload() {
  const [state, setState] = useState<DownloadState | null>(null);
  const ctl = useRef<AbortController | null>(null);
  /* Runs fn with a fresh signal; the state is cleared when it ends, however it ends. */
  const run = async <T,>(fn: (signal: AbortSignal, progress: (s: DownloadState) => void) => Promise<T>): Promise<T> => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setState({ done: 0, total: null, text: '' });
    try {
      return await fn(c.signal, (s) => { if (ctl.current === c) setState(s); });
    } finally {
      if (ctl.current === c) {
        ctl.current = null;
        setState(null);
      }
    }
  };
  return { state, run, cancel: () => ctl.current?.abort() };
}

export function DownloadProgress({ state, onCancel, label, waiting }: { state: DownloadState | null; onCancel: () => void; label: string; waiting: string }) {
  if (!state) return null;
  const pct = percentOf(state.done, state.total);
  return (
    <Space role="status" aria-label={label} style={{ display: 'flex', marginBottom: 12 }} align="center">
      <Progress style={{ width: 240, margin: 0 }} percent={pct ?? 100} status="active" showInfo={false} strokeColor={pct === null ? '#91caff' : undefined} />
      <span data-testid="download-progress">{pct !== null ? `${pct}% — ${state.text}` : state.text || waiting}</span>
      <Button size="small" icon={<StopOutlined />} onClick={onCancel}>{vi.files.cancel}</Button>
    </Space>
  );
}
