// Between the document and Django's block form, which stays the one thing the server reads.
// Reading: the form's rows (or a draft) become the editor's HTML. Writing: the document becomes
// the form's fields again: every block row the page was opened with keeps its slot (changed,
// moved or marked for deletion), new blocks follow, and the visible rows' own fields are
// disabled so that only what the editor wrote is sent.
import { inlineMarkdown } from "./markdown.js";

const TAG = { heading: "h2", paragraph: "p" };

function escapeAttribute(value) {
    return String(value).replace(/&/g, "&amp;").replace(/"/g, "&quot;");
}

export function blocksHTML(blocks) {
    let html = "";
    let inList = false;
    for (const block of blocks.filter((row) => !row.deleted)) {
        const id = block.id ? ` data-block-id="${escapeAttribute(block.id)}"` : "";
        if (block.kind === "bullet") {
            html += (inList ? "" : "<ul>") + `<li${id}><p>${block.html}</p></li>`;
            inList = true;
            continue;
        }
        html += inList ? "</ul>" : "";
        inList = false;
        const tag = TAG[block.kind] || "p";
        html += `<${tag}${id}>${block.html}</${tag}>`;
    }
    return html + (inList ? "</ul>" : "") || "<p></p>";
}

// What each block looked like when it was loaded: a block whose content has not changed keeps
// its stored Markdown byte for byte, so opening and saving a story changes nothing.
export function fingerprints(doc, blocks) {
    const texts = new Map(blocks.filter((row) => row.id).map((row) => [row.id, row.text]));
    const seen = new Map();
    eachBlock(doc, (node, kind) => {
        const id = node.attrs.blockId;
        if (id && texts.has(id) && !seen.has(id)) {
            seen.set(id, { kind, content: JSON.stringify(node.content.toJSON()), text: texts.get(id) });
        }
    });
    return seen;
}

function eachBlock(doc, visit) {
    doc.forEach((node) => {
        if (node.type.name === "bulletList") {
            node.forEach((item) => visit(item, "bullet", item.firstChild));
        } else {
            visit(node, node.type.name === "heading" ? "heading" : "paragraph", node);
        }
    });
}

export function documentBlocks(doc, known) {
    const blocks = [];
    const used = new Set();
    eachBlock(doc, (node, kind, inline) => {
        let id = node.attrs.blockId;
        // A block copied within the story carries its original's id: only one row is the row.
        if (id && (used.has(id) || !known.has(id))) {
            id = null;
        }
        const before = id ? known.get(id) : null;
        const content = JSON.stringify(node.content.toJSON());
        const text =
            before && before.kind === kind && before.content === content
                ? before.text
                : inlineMarkdown(inline || node);
        if (text.trim() === "") {
            return;
        }
        if (id) {
            used.add(id);
        }
        blocks.push({ id, kind, text });
    });
    return blocks;
}

function hidden(container, name, value) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    container.append(input);
}

export function writeForm({ form, prefix, slots, original, blocks }) {
    const group = form.querySelector(`#${prefix}-group`);
    const limits = ["MIN_NUM_FORMS", "MAX_NUM_FORMS"].map(
        (name) => [name, form.querySelector(`[name="${prefix}-${name}"]`)?.value ?? ""]
    );
    group.querySelectorAll("input, select, textarea").forEach((field) => {
        field.disabled = true;
    });
    let container = form.querySelector("[data-bell-editor-fields]");
    if (container) {
        container.replaceChildren();
    } else {
        container = document.createElement("div");
        container.hidden = true;
        container.dataset.bellEditorFields = "";
        form.append(container);
    }
    const kept = new Map(blocks.filter((block) => block.id).map((block, index) => [block.id, block]));
    const position = new Map(blocks.map((block, index) => [block, index + 1]));
    const field = (index, name, value) => hidden(container, `${prefix}-${index}-${name}`, value);
    slots.forEach((id, index) => {
        const block = kept.get(id);
        const was = original.get(id);
        field(index, "id", id);
        field(index, "kind", block ? block.kind : was.kind);
        field(index, "text", block ? block.text : was.text);
        field(index, "position", block ? position.get(block) : was.position ?? "");
        if (!block) {
            field(index, "DELETE", "on");
        }
    });
    const added = blocks.filter((block) => !block.id);
    added.forEach((block, offset) => {
        const index = slots.length + offset;
        field(index, "id", "");
        field(index, "kind", block.kind);
        field(index, "text", block.text);
        field(index, "position", position.get(block));
    });
    hidden(container, `${prefix}-TOTAL_FORMS`, slots.length + added.length);
    hidden(container, `${prefix}-INITIAL_FORMS`, slots.length);
    limits.forEach(([name, value]) => hidden(container, `${prefix}-${name}`, value));
}
