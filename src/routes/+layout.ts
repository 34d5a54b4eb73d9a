// A static single-page app: everything renders in the browser.
export const prerender = true;
export const ssr = false;
// Every page is a folder with index.html (run/index.html), so a plain static file server — python3
// -m http.server, say — serves a deep link (/run/?id=…) after a reload too.
export const trailingSlash = 'always';
