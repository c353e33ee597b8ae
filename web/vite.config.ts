// Vite build of the web application. Every runtime <style> injection of Ant Design and its
// rc-* components goes through rc-util's dynamicCSS: it is replaced by src/csp/dynamicCSS.ts,
// which uses constructed stylesheets, so the gateway's CSP (style-src 'self', no inline
// styles) holds without 'unsafe-inline'. No source maps in the production bundle.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const cspCss = fileURLToPath(new URL('./src/csp/dynamicCSS.ts', import.meta.url));

/* By resolved file, not by specifier: rc-util also imports it relatively ("./Dom/dynamicCSS"). */
const cspStyles: Plugin = {
  name: 'hoso-csp-styles',
  enforce: 'pre',
  async resolveId(source, importer, options) {
    if (!/dynamicCSS(\.js)?$/.test(source)) return null;
    const r = await this.resolve(source, importer, { ...options, skipSelf: true });
    if (r && /[\\/]rc-util[\\/](es|lib)[\\/]Dom[\\/]dynamicCSS\.js$/.test(r.id)) return cspCss;
    return r;
  },
};

export default defineConfig({
  plugins: [cspStyles, react()],
  build: {
    outDir: process.env.HOSO_WEB_OUT || 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          antd: ['antd', '@ant-design/icons', 'dayjs'],
          rpc: ['@bufbuild/protobuf', '@connectrpc/connect', '@connectrpc/connect-web', '@connectrpc/connect-query', '@tanstack/react-query'],
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
