/* The printable 2C résumé (ExportRecord HTML_2C) shown inside the application and printed from
 * there. The service's document carries a <style> block and style attributes, which the CSP
 * forbids as markup: its CSS is applied as a constructed stylesheet (csp/dynamicCSS.ts) and
 * each style attribute through the CSSOM, so the page looks as the service made it. */
import { useQuery } from '@connectrpc/connect-query';
import { PrinterOutlined } from '@ant-design/icons';
import { Button, Space } from 'antd';
import { useEffect, useRef } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ExportFormat, Records } from '../../api/gen/records_pb';
import { removeCSS, updateCSS } from '../../csp/dynamicCSS';
import { ErrorBanner } from '../../components/ErrorBanner';
import { vi } from '../../i18n/vi';

const KEY = 'hoso-2c';

/* Moves the body of an exported HTML document into host, its <style> text into a stylesheet
 * scoped under host's class, and its style attributes into the CSSOM. Scripts never run. */
export function mountExport(html: string, host: HTMLElement): void {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const css = Array.from(doc.querySelectorAll('style')).map((s) => s.textContent ?? '').join('\n');
  doc.querySelectorAll('script, style, link, iframe, object, embed').forEach((n) => n.remove());
  const styled: [Element, string][] = [];
  doc.body.querySelectorAll('[style]').forEach((el) => {
    styled.push([el, el.getAttribute('style') ?? '']);
    el.removeAttribute('style');
  });
  updateCSS(`@scope (.hoso-print) { ${css.replace(/\bbody\b/g, ':scope')} }`, KEY);
  host.replaceChildren(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
  // the imported copies are in host in the same order as the originals were in doc
  const copies = host.querySelectorAll('*');
  const originals = Array.from(doc.body.querySelectorAll('*'));
  styled.forEach(([el, text]) => {
    const i = originals.indexOf(el);
    const copy = copies[i] as HTMLElement | undefined;
    if (copy) copy.style.cssText = text;
  });
}

export function PrintPage() {
  const { id = '' } = useParams();
  const q = useQuery(Records.method.exportRecord, { recordId: id, format: ExportFormat.HTML_2C });
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (q.data && host.current) mountExport(new TextDecoder().decode(q.data.content), host.current);
    return () => removeCSS(KEY);
  }, [q.data]);
  return (
    <div className="hoso-page">
      <Space className="hoso-noprint" style={{ marginBottom: 12 }}>
        <Link to={`/records/${id}`}><Button>{vi.common.close}</Button></Link>
        <Button type="primary" icon={<PrinterOutlined />} onClick={() => window.print()} disabled={!q.data}>{vi.dossier.print}</Button>
      </Space>
      <ErrorBanner error={q.error} />
      <div className="hoso-print" ref={host} data-testid="print-2c" />
    </div>
  );
}
