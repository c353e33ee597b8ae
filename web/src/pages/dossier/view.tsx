/* The read view of a dossier: each section of form 2C as label/value pairs, each history as a
 * dated table, values shown as a person reads them (dd/mm/yyyy, catalogue names, Nam/Nữ). */
import { Descriptions, Table, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useCatalog } from '../../api/hooks';
import type { Record as Rec } from '../../api/gen/records_pb';
import { vi } from '../../i18n/vi';
import { dateText } from '../../lib/format';
import { getPath, type FieldDef, type SectionDef } from './schema';

function CatalogName({ catalog, code }: { catalog: string; code: string }) {
  const { names } = useCatalog(catalog);
  return <>{names.get(code) ?? code}</>;
}

export function valueNode(fd: FieldDef, v: unknown): ReactNode {
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return <Typography.Text type="secondary">{vi.common.none}</Typography.Text>;
  switch (fd.kind.t) {
    case 'date':
    case 'month':
      return dateText(String(v));
    case 'bool':
      return v ? vi.common.yes : vi.common.no;
    case 'enum':
      return fd.kind.labels[Number(v)] ?? String(v);
    case 'catalog':
      return <CatalogName catalog={fd.kind.catalog} code={String(v)} />;
    case 'int':
      return Number(v) === 0 ? <Typography.Text type="secondary">{vi.common.none}</Typography.Text> : String(v);
    default:
      return String(v);
  }
}

export function SectionView({ section, record }: { section: SectionDef; record: Rec }) {
  return (
    <>
      {section.fields.length > 0 && (
        <Descriptions bordered size="small" column={{ xs: 1, md: 2, xl: 3 }}
          items={section.fields.map((fd) => ({ key: fd.path.join('.'), label: fd.label, children: valueNode(fd, getPath(record, fd.path)), span: fd.kind.t === 'long' ? 3 : 1 }))} />
      )}
      {section.histories.map((h) => {
        const rows = (getPath(record, [h.key]) as object[] | undefined) ?? [];
        return (
          <div key={h.key} style={{ marginTop: 16 }}>
            <Typography.Title level={5} className="hoso-section-title">{h.title}</Typography.Title>
            <Table size="small" pagination={false} rowKey={(_r, i) => String(i)} dataSource={rows}
              locale={{ emptyText: vi.common.empty }}
              columns={h.columns.map((c) => ({ key: c.path.join('.'), title: c.label, render: (_: unknown, r: object) => valueNode(c, getPath(r, c.path)) }))} />
          </div>
        );
      })}
    </>
  );
}
