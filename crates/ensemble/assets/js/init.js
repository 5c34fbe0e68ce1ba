// Ensemble page bootstrap (ES module, loaded with <script type="module">).
//
// NHS.UK frontend's page template normally runs this inline snippet as the
// first child of <body>:
//
//   document.body.className += ' js-enabled' +
//     ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
//
// Our Content-Security-Policy forbids inline scripts, so we do the same here.
// Module scripts only run in browsers that support ES modules, so reaching
// this code means the browser is "supported". initAll() refuses to initialise
// any component unless <body> has the `nhsuk-frontend-supported` class.
import { initAll } from '/assets/vendor/nhsuk-frontend/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled');
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported');
}

// Module scripts are deferred, so the DOM is parsed by the time this runs.
initAll();
