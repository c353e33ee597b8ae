/* A bar chart (Apache ECharts, tree-shaken from echarts/core, canvas renderer) whose bars are
 * clickable, with its numbers also in an aria-label: the table beside it stays the accessible
 * view, the label lets a screen reader (and the browser test) read what is drawn. */
import { BarChart as EBar, LineChart as ELine } from 'echarts/charts';
import { GridComponent, LegendComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import type { ChartData } from '../lib/reports';

// No tooltip component: it writes HTML with style attributes, which the gateway's CSP refuses;
// the counts are printed on the bars instead.
echarts.use([EBar, ELine, GridComponent, LegendComponent, CanvasRenderer]);

/* The plot's margins in pixels, fixed so a bar's place is known from the chart's size alone. */
export const CHART_GRID = { left: 48, right: 16, top: 36, bottom: 56 };

export function BarChart(props: {
  data: ChartData;
  label: string;
  line?: boolean;
  height?: number;
  testId?: string;
  onBar?: (keys: string[], category: string, series: string) => void;
}) {
  const { data, label, line, onBar } = props;
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(onBar);
  click.current = onBar;
  const keys = useRef(data.keys);
  keys.current = data.keys;

  useEffect(() => {
    if (!el.current) return undefined;
    const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => {
      const k = keys.current[p.seriesIndex ?? 0]?.[p.dataIndex];
      if (k && click.current) click.current(k, String(p.name), String(p.seriesName));
    });
    const resize = () => c.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const stacked = data.series.length > 1;
    chart.current?.setOption({
      animation: false,
      textStyle: { fontFamily: 'inherit' },
      grid: { ...CHART_GRID, containLabel: false },
      legend: stacked ? { top: 4, type: 'scroll' } : { show: false },
      xAxis: { type: 'category', data: data.categories, axisLabel: { interval: 0, hideOverlap: true, width: 110, overflow: 'truncate' } },
      yAxis: { type: 'value', minInterval: 1 },
      series: data.series.map((s) => ({
        name: s.name,
        type: line ? 'line' : 'bar',
        stack: stacked && !line ? 'all' : undefined,
        data: s.data,
        barMaxWidth: 64,
        cursor: onBar ? 'pointer' : 'default',
        label: { show: true, position: stacked ? 'inside' : 'top', formatter: (p: { value: unknown }) => (Number(p.value) ? Number(p.value).toLocaleString('vi-VN') : '') },
      })),
    }, true);
  }, [data, line, onBar]);

  return <div ref={el} role="img" aria-label={label} data-testid={props.testId} className="hoso-chart" style={{ height: props.height ?? 280 }} />;
}
