// The register without page reloads (progressive enhancement).
//
// Without this script every mark is an ordinary form post that comes back to the
// register. With it, a mark (and "mark everyone present", after its confirmation) is
// one fetch with the same form fields and the CSRF token; the page updates the line,
// the head count and says what happened. If the server refuses (422) or the network
// fails, the form is sent the ordinary way so the page shows what went wrong.

const register = document.querySelector('[data-register]');
const count = document.querySelector('[data-head-count]');
const THERE = ['present', 'late', 'left_early'];

function updateCount() {
  if (!register || !count) return;
  const total = Number(register.dataset.total || 0);
  const there = [...register.querySelectorAll('[data-line]')].filter((l) =>
    THERE.includes(l.dataset.status),
  ).length;
  count.textContent = `${there} of ${total} present`;
  // "Mark everyone present" offers only those not yet marked; none left, it goes.
  const unmarked = [...register.querySelectorAll('[data-line]')].filter(
    (l) => !l.dataset.status && !l.dataset.left,
  ).length;
  for (const n of document.querySelectorAll('[data-unmarked]')) n.textContent = String(unmarked);
  for (const n of document.querySelectorAll('[data-unmarked-noun]')) {
    n.textContent = unmarked === 1 ? 'person' : 'people';
  }
  const everyone = document.querySelector('[data-everyone]');
  if (everyone && unmarked === 0) everyone.hidden = true;
}

function setLine(line, status) {
  line.dataset.status = status;
  for (const b of line.querySelectorAll('button[name="status"]')) {
    const on = b.value === status;
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.classList.toggle('ensemble-mark--on', on);
    b.classList.toggle('nhsuk-button--secondary', !on);
    if (on) {
      const text = line.querySelector('[data-status-text]');
      if (text) text.textContent = b.dataset.label || b.value;
    }
  }
}

async function post(form, submitter) {
  const body = new URLSearchParams(new FormData(form, submitter));
  const r = await fetch(form.action, {
    method: 'POST',
    body,
    credentials: 'same-origin',
    headers: { 'x-requested-with': 'fetch' },
  });
  if (!r.ok) throw new Error(`status ${r.status}`);
  return r;
}

function sendPlainly(form, submitter) {
  form.dataset.plain = '1';
  form.requestSubmit(submitter || undefined);
}

document.addEventListener('submit', async (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.plain) return;
  const submitter = ev.submitter;
  if (form.matches('.ensemble-register__marks') && submitter && submitter.name === 'status') {
    ev.preventDefault();
    try {
      await post(form, submitter);
      setLine(form.closest('[data-line]'), submitter.value);
      updateCount();
    } catch {
      sendPlainly(form, submitter);
    }
  } else if (form.matches('[data-mark-everyone]')) {
    ev.preventDefault();
    try {
      await post(form, submitter);
      for (const line of register.querySelectorAll('[data-line]')) {
        if (!line.dataset.status && !line.dataset.left) setLine(line, 'present');
      }
      updateCount();
    } catch {
      sendPlainly(form, submitter);
    }
  }
});
