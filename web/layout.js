// Where a page finds what it reads in a game's schema: components and fields by name, never by
// position, so that a page keeps working when a game's schema is reordered, and fails with a
// clear message when the server plays a game the page cannot read.

/**
 * The layout `spec` asks for in `game` (a GameSchema; or a component Schema, whose input and
 * messages are then not checked): `spec.components` maps a key to a component name (the result
 * holds its index: its presence-mask bit), `spec.fields` a key to `'component.field'` (the
 * result's `F` holds its global field index); `spec.input`, `spec.events` and `spec.commands`
 * name the input fields, events and commands the page uses. Throws if any is missing.
 */
export function findLayout(game, spec) {
  const schema = game.components ?? game;
  const out = { schema, F: {} };
  for (const [key, name] of Object.entries(spec.components)) {
    out[key] = schema.componentIndex(name);
    if (out[key] < 0) throw new Error(`the ${schema.name} schema has no component \`${name}\``);
  }
  for (const [key, path] of Object.entries(spec.fields)) {
    const [component, name] = path.split('.');
    const c = schema.components[schema.componentIndex(component)];
    const j = c ? c.fields.findIndex((f) => f.name === name) : -1;
    if (j < 0) throw new Error(`the ${schema.name} schema has no field \`${path}\``);
    out.F[key] = c.firstField + j;
  }
  if (game.input) {
    const need = (list, has, what) => {
      for (const name of list ?? []) if (!has(name)) throw new Error(`the ${game.game} game has no ${what} \`${name}\``);
    };
    need(spec.input, (n) => game.input.field(n), 'input field');
    need(spec.events, (n) => game.event(n), 'event');
    need(spec.commands, (n) => game.command(n), 'command');
  }
  return out;
}
