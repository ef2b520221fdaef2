// Where Debian's Chromium is and the flags it needs here (headless, no sandbox as root, nothing that calls out):
// the web page's end-to-end tests and the benchmark's B4 in a browser both launch it so.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];
