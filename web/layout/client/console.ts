/// <reference lib="dom" />
/**
 * Progressive enhancement for console and portal pages. Every page works without it: forms post and the
 * server answers with the next page. This script only saves round trips and asks before destructive posts.
 */

// A form marked `data-confirm` asks first (revoke, suspend, delete).
document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

/**
 * The rule-chain editor: the buttons move and remove rules in the page instead of posting the form to the
 * server for the same edit. Field names carry the rule's index, so they are renumbered after each change.
 */
function renumber(list: HTMLElement) {
  const rows = Array.from(list.querySelectorAll<HTMLElement>(':scope > li'));
  rows.forEach((row, index) => {
    const heading = row.querySelector('.rule-no');
    if (heading) heading.textContent = `Rule ${index + 1}`;
    for (const el of Array.from(row.querySelectorAll<HTMLInputElement>('[name^="rules."]')))
      el.name = el.name.replace(/^rules\.\d+\./, `rules.${index}.`);
    for (const button of Array.from(row.querySelectorAll<HTMLButtonElement>('button[name="op"]')))
      button.value = button.value.replace(/:\d+$/, `:${index}`);
    const up = row.querySelector<HTMLButtonElement>('button[value^="up:"]');
    const down = row.querySelector<HTMLButtonElement>('button[value^="down:"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === rows.length - 1;
  });
}

document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[name="op"]');
  const list = button?.closest<HTMLElement>('[data-chain]');
  if (!button || !list) return;
  const [op] = button.value.split(':');
  const row = button.closest('li');
  if (!row || !op || op === 'add') return;
  event.preventDefault();
  if (op === 'up' && row.previousElementSibling)
    row.parentElement?.insertBefore(row, row.previousElementSibling);
  if (op === 'down' && row.nextElementSibling) row.parentElement?.insertBefore(row.nextElementSibling, row);
  if (op === 'remove') row.remove();
  renumber(list);
  // Keep the keyboard where it was: on the same button of the moved rule.
  if (op !== 'remove') button.focus();
  else list.querySelector<HTMLElement>('button, select, input')?.focus();
});
