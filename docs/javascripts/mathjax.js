// MathJax configuration for pymdownx.arithmatex (generic mode), following Material for
// MkDocs. Math is written $...$ (inline) and $$...$$ (display) in the pages; arithmatex
// wraps it in \(...\) / \[...\] inside elements of class "arithmatex", and only those
// elements are typeset.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  },
  // The page is typeset by the hook below, once per page (also after instant navigation).
  startup: {
    typeset: false
  }
};

document$.subscribe(() => {
  const mathjax = window.MathJax;
  if (!mathjax || !mathjax.startup) return;
  if (!mathjax.startup.promise) {
    // MathJax itself has not started yet: let it typeset the page when it does.
    mathjax.startup.typeset = true;
    return;
  }
  mathjax.startup.promise = mathjax.startup.promise.then(() => {
    mathjax.startup.output.clearCache();
    mathjax.typesetClear();
    mathjax.texReset();
    return mathjax.typesetPromise();
  });
});
