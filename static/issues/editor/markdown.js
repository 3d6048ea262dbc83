// A block of the editor as the inline Markdown BellCMS stores: **bold**, *emphasis* and
// [links](https://…), nothing else. The escaping is issues/importing/escaping.py's, so a block
// typed here is stored as the importer would store the same words.

const INLINE_SPECIAL = /([\\`*_[\]<~])/g;
const ENTITY_START = /&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]*;)/g;
const LINE_START_SPECIAL = /^([ \t]*)(?:([#>+=-])|([0-9]{1,9})([.)])(?=\s|$))/;
const DESTINATION_SPECIAL = /([\\()])/g;
const ALLOWED_SCHEMES = /^(https?|mailto):/i;

export function escapeText(text) {
    return text.replace(INLINE_SPECIAL, "\\$1").replace(ENTITY_START, "\\&");
}

function escapeLineStart(markdown) {
    return markdown.replace(LINE_START_SPECIAL, (match, indent, marker, digits, delimiter) =>
        marker ? `${indent}\\${marker}` : `${indent}${digits}\\${delimiter}`
    );
}

export function linkAllowed(href) {
    return ALLOWED_SCHEMES.test((href || "").trim());
}

function escapeDestination(url) {
    return url.replace(DESTINATION_SPECIAL, "\\$1").replace(ENTITY_START, "\\&");
}

// Outermost first: a link holds bold and emphasis, bold holds emphasis.
const ORDER = ["link", "bold", "italic"];
const DELIMITER = { bold: "**", italic: "*" };

function marksOf(node) {
    const marks = {};
    for (const mark of node.marks) {
        if (mark.type.name === "link" && !linkAllowed(mark.attrs.href)) {
            continue;
        }
        if (ORDER.includes(mark.type.name)) {
            marks[mark.type.name] = mark.type.name === "link" ? mark.attrs.href : true;
        }
    }
    return marks;
}

function close(name, value) {
    return name === "link" ? `](${escapeDestination(value)})` : DELIMITER[name];
}

function open(name) {
    return name === "link" ? "[" : DELIMITER[name];
}

// Marks open and close around runs of text, as prosemirror-markdown does: a mark closes when a
// piece of text lacks it (with every mark opened inside it), and whitespace at the edge of a
// run goes outside the delimiters, where CommonMark still sees them as emphasis.
export function inlineMarkdown(block) {
    let out = "";
    let stack = []; // [name, value]
    block.forEach((child) => {
        const text = child.isText ? child.text : " ";
        const marks = child.isText ? marksOf(child) : {};
        let keep = 0;
        while (keep < stack.length && marks[stack[keep][0]] === stack[keep][1]) {
            keep += 1;
        }
        const [, lead, body, trail] = text.match(/^(\s*)([\s\S]*?)(\s*)$/);
        const closing = stack.slice(keep).reverse();
        if (closing.length && body === "") {
            out += closing.map(([name, value]) => close(name, value)).join("") + text;
            stack = stack.slice(0, keep);
            return;
        }
        out += closing.map(([name, value]) => close(name, value)).join("");
        stack = stack.slice(0, keep);
        out += lead;
        for (const name of ORDER) {
            if (name in marks && !stack.some(([open]) => open === name)) {
                stack.push([name, marks[name]]);
                out += open(name);
            }
        }
        out += escapeText(body);
        if (trail) {
            // Close before trailing whitespace; the next piece reopens what it still needs.
            out += stack
                .slice()
                .reverse()
                .map(([name, value]) => close(name, value))
                .join("");
            stack = [];
            out += trail;
        }
    });
    out += stack
        .slice()
        .reverse()
        .map(([name, value]) => close(name, value))
        .join("");
    return escapeLineStart(out.replace(/\s+/g, " ").trim());
}
