/* A page's frame (Ant Design Pro's convention): breadcrumbs, a title, actions on the right. */
import { Breadcrumb, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

export interface Crumb {
  title: string;
  to?: string;
}

export function Page(props: { crumbs?: Crumb[]; title: ReactNode; extra?: ReactNode; children: ReactNode }) {
  return (
    <div className="hoso-page">
      {props.crumbs && (
        <Breadcrumb
          items={props.crumbs.map((c) => ({ title: c.to ? <Link to={c.to}>{c.title}</Link> : c.title }))}
        />
      )}
      <div className="hoso-toolbar">
        <Typography.Title level={3} style={{ margin: '8px 0' }}>
          {props.title}
        </Typography.Title>
        <div className="hoso-grow" />
        {props.extra}
      </div>
      {props.children}
    </div>
  );
}
