// Words shown to people by the editor's scripts: Django's JavaScript catalog where the admin
// loads it, English otherwise.
export const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;

export function interpolate(text, values) {
    if (typeof window.interpolate === "function") {
        return window.interpolate(text, values, true);
    }
    return text.replace(/%\((\w+)\)s/g, (match, key) => values[key]);
}

export function timeOf(iso) {
    const options = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    return new Date(iso).toLocaleTimeString([], options);
}
