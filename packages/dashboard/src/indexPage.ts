/**
 * The page's HTML: a shell the bundle fills. Every URL in it is relative, so the dashboard works
 * wherever it is mounted (`/` for `cloudsession ui`, `/dashboard/` in the example service).
 */
export function indexPage(title: string): string {
  const safeTitle = title.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css">
<script type="module" src="assets/app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading sessions…</p></div>
<noscript><p>The dashboard needs JavaScript (bundled with it; nothing is loaded from elsewhere).</p></noscript>
</body>
</html>
`;
}
