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
 * scoped under host's class, and its style attributes into the CSSOM. Both are taken out of
 * the text before it is parsed (parsing them, even in an inert document, is a CSP violation);
 * the service escapes quotes in the record's text, so ' style="' occurs only as an attribute.
 * Scripts never run: the parsed nodes come from an inert document, scripting elements dropped. */
export function mountExport(html: string, host: HTMLElement): void {
  const css: string[] = [];
  const text = html
    .replace(/<style\b[^>]*>([\s\S]*?)<\/style>/gi, (_m, c: string) => {
      css.push(c);
      return '';
    })
    .replace(/(<[a-z][a-z0-9]*\b[^>]*?\s)style="/gi, '$1data-hoso-style="');
  const doc = new DOMParser().parseFromString(text, 'text/html');
  doc.querySelectorAll('script, link, iframe, object, embed').forEach((n) => n.remove());
  updateCSS(`@scope (.hoso-print) { ${css.join('\n').replace(/\bbody\b/g, ':scope')} }`, KEY);
  host.replaceChildren(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
  host.querySelectorAll<HTMLElement>('[data-hoso-style]').forEach((el) => {
    el.style.cssText = el.dataset.hosoStyle ?? '';
    el.removeAttribute('data-hoso-style');
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
