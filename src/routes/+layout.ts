// A static single-page app: everything renders in the browser.
export const prerender = true;
export const ssr = false;
