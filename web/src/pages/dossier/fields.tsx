/* One control per field kind of the dossier (schema.ts), used by the edit form and the change
 * request: dates typed or picked as dd/mm/yyyy (kept as ISO), "mm/yyyy" months, catalogue
 * codes by name, enums by label. */
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Card, Col, Form, Input, InputNumber, Row, Select, Switch, Typography } from 'antd';
import { CatalogSelect, DateField } from '../../components/Pickers';
import { dateText, isoOf } from '../../lib/format';
import type { FieldDef, HistoryDef, SectionDef } from './schema';

function control(fd: FieldDef) {
  switch (fd.kind.t) {
    case 'long': return <Input.TextArea rows={2} aria-label={fd.label} />;
    case 'date': return <DateField aria-label={fd.label} />;
    case 'month': return <Input placeholder="mm/yyyy" aria-label={fd.label} />;
    case 'int': return <InputNumber min={0} style={{ width: '100%' }} aria-label={fd.label} />;
    case 'bool': return <Switch aria-label={fd.label} />;
    case 'catalog': return <CatalogSelect catalog={fd.kind.catalog} aria-label={fd.label} />;
    case 'enum': return <Select aria-label={fd.label} options={fd.kind.labels.slice(1).map((l, i) => ({ value: i + 1, label: l }))} />;
    default: return <Input aria-label={fd.label} />;
  }
}

function itemProps(fd: FieldDef) {
  if (fd.kind.t === 'bool') return { valuePropName: 'checked' };
  if (fd.kind.t === 'month')
    return { getValueProps: (v: string) => ({ value: dateText(v) }), normalize: (v: string) => isoOf(v ?? '') };
  return {};
}

export function FieldItem({ fd, prefix = [] }: { fd: FieldDef; prefix?: (string | number)[] }) {
  return (
    <Form.Item name={[...prefix, ...fd.path]} label={fd.label} {...itemProps(fd)}
      rules={fd.required ? [{ required: true, message: 'Bắt buộc nhập' }] : undefined}>
      {control(fd)}
    </Form.Item>
  );
}

function HistoryEdit({ h }: { h: HistoryDef }) {
  return (
    <Form.List name={h.key}>
      {(rows, { add, remove }) => (
        <div style={{ marginTop: 12 }}>
          <Typography.Title level={5} className="hoso-section-title">{h.title}</Typography.Title>
          {rows.map((row) => (
            <Card size="small" key={row.key} style={{ marginBottom: 8 }}
              extra={<Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(row.name)} aria-label="Xóa dòng">Xóa</Button>}>
              <Row gutter={8}>
                {h.columns.map((c) => (
                  <Col key={c.path.join('.')} xs={24} md={8} xl={6}><FieldItem fd={c} prefix={[row.name]} /></Col>
                ))}
              </Row>
            </Card>
          ))}
          <Button icon={<PlusOutlined />} onClick={() => add({})}>Thêm dòng: {h.title}</Button>
        </div>
      )}
    </Form.List>
  );
}

export function SectionEdit({ section }: { section: SectionDef }) {
  return (
    <>
      <Row gutter={12}>
        {section.fields.map((fd) => (
          <Col key={fd.path.join('.')} xs={24} md={fd.kind.t === 'long' ? 24 : 12} xl={fd.kind.t === 'long' ? 24 : 8}><FieldItem fd={fd} /></Col>
        ))}
      </Row>
      {section.histories.map((h) => <HistoryEdit key={h.key} h={h} />)}
    </>
  );
}
