// What is pasted from Google Docs, Word or a web page, reduced to what a story can hold:
// sub-headings, paragraphs, bullet lists, links, bold and emphasis. Fonts, colours, classes,
// comments, tracked deletions, images and empty paragraphs go; bold and emphasis that those
// editors spell as styles become real marks, and Word's styled paragraphs real headings and
// lists. The editor's schema then keeps only what it knows.
import { linkAllowed } from "./markdown.js";

const DROP = [
    "script", "style", "meta", "link", "title", "template", "img", "picture", "svg", "video",
    "audio", "iframe", "object", "embed", "canvas", "input", "button", "select", "textarea",
    "del", "s", "strike", "noscript",
    // Word: the bullet or number typed before a list item, comment marks and comment texts.
    "[style*='mso-list:Ignore' i]", "[style*='mso-list: Ignore' i]", ".MsoCommentReference",
    ".msocomtxt", "[style*='mso-element:comment' i]", "a[href^='#_msocom']",
    // Google Docs: comment anchors and the comment texts at the end of the document.
    "sup:has(> a[href^='#cmnt'])", "a[href^='#cmnt']", "div:has(> p > a[id^='cmnt'])",
    "div:has(> p > a[href^='#cmnt_ref'])",
].join(",");

const BLOCKS = "p,h1,h2,h3,h4,h5,h6,li,div,td,th,blockquote,pre";

function rename(element, tag) {
    const replacement = element.ownerDocument.createElement(tag);
    replacement.append(...element.childNodes);
    element.replaceWith(replacement);
    return replacement;
}

function unwrap(element) {
    element.replaceWith(...element.childNodes);
}

// Declarations only, so that Word's "mso-bidi-font-weight:normal" is not "font-weight:normal".
function styleOf(element) {
    return (element.getAttribute("style") || "").toLowerCase().replace(/\s+/g, "");
}

function isBoldStyle(style) {
    const weight = /(?:^|;)font-weight:([a-z0-9]+)/.exec(style);
    return Boolean(weight) && /^(bold|bolder|[6-9]00)$/.test(weight[1]);
}

function isWordListParagraph(element) {
    return (
        element.tagName === "P" &&
        (/mso-list:(?!ignore)/.test(styleOf(element)) || /MsoListParagraph/.test(element.className))
    );
}

function isWordHeading(element) {
    return (
        element.tagName === "P" &&
        (/^MsoHeading|^MsoTitle|^MsoSubtitle/.test(element.className) ||
            /mso-outline-level/.test(styleOf(element)))
    );
}

// Google Docs sends links through its redirector when copying from a published document.
function realHref(href) {
    try {
        const url = new URL(href);
        if (/(^|\.)google\.[a-z.]+$/.test(url.hostname) && url.pathname === "/url") {
            return url.searchParams.get("q") || href;
        }
    } catch {
        return href;
    }
    return href;
}

function wordLists(body) {
    for (const paragraph of Array.from(body.querySelectorAll("p"))) {
        if (!paragraph.isConnected || !isWordListParagraph(paragraph)) {
            continue;
        }
        const list = body.ownerDocument.createElement("ul");
        paragraph.before(list);
        let item = paragraph;
        while (item && item.nodeType === 1 && isWordListParagraph(item)) {
            const next = item.nextElementSibling;
            list.append(rename(item, "li"));
            item = next;
        }
    }
}

function styledMarks(body) {
    const doc = body.ownerDocument;
    for (const element of Array.from(body.querySelectorAll("span,b,strong,i,em,font,u"))) {
        const style = styleOf(element);
        const tagBold = element.tagName === "B" || element.tagName === "STRONG";
        const tagItalic = element.tagName === "I" || element.tagName === "EM";
        // Google Docs wraps a whole paste in <b style="font-weight:normal">: not bold at all.
        const bold = isBoldStyle(style) || (tagBold && !/(?:^|;)font-weight:(normal|[1-4]00)/.test(style));
        const italic =
            /(?:^|;)font-style:italic/.test(style) ||
            (tagItalic && !/(?:^|;)font-style:normal/.test(style));
        let content = Array.from(element.childNodes);
        for (const [wanted, tag] of [[italic, "em"], [bold, "strong"]]) {
            if (wanted) {
                const mark = doc.createElement(tag);
                mark.append(...content);
                content = [mark];
            }
        }
        element.replaceWith(...content);
    }
}

function flattenLists(body) {
    for (const list of Array.from(body.querySelectorAll("ol"))) {
        rename(list, "ul");
    }
    // A story's bullets are one level: a nested list's items follow their parent item.
    for (const nested of Array.from(body.querySelectorAll("li ul"))) {
        const parent = nested.closest("li");
        parent.after(...nested.children);
        nested.remove();
    }
    for (const item of Array.from(body.querySelectorAll("li"))) {
        if (!item.closest("ul")) {
            rename(item, "p");
        }
    }
}

function isEmpty(element) {
    return element.textContent.replace(/[\s\u00a0\u200b]/g, "") === "";
}

export function cleanPastedHTML(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const body = doc.body;
    const comments = doc.createTreeWalker(body, NodeFilter.SHOW_COMMENT);
    const found = [];
    while (comments.nextNode()) {
        found.push(comments.currentNode);
    }
    found.forEach((comment) => comment.remove());
    body.querySelectorAll(DROP).forEach((element) => element.remove());
    // Word's namespaced tags (<o:p>) carry nothing.
    Array.from(body.getElementsByTagName("*"))
        .filter((element) => element.tagName.includes(":"))
        .forEach((element) => unwrap(element));
    for (const heading of Array.from(body.querySelectorAll("p"))) {
        if (isWordHeading(heading)) {
            rename(heading, "h2");
        }
    }
    wordLists(body);
    styledMarks(body);
    for (const heading of Array.from(body.querySelectorAll("h1,h3,h4,h5,h6"))) {
        rename(heading, "h2");
    }
    // A heading is set bold by the renderer: bold inside it would add nothing but markers.
    body.querySelectorAll("h2 strong").forEach(unwrap);
    flattenLists(body);
    for (const link of Array.from(body.querySelectorAll("a"))) {
        const href = realHref(link.getAttribute("href") || "");
        if (linkAllowed(href)) {
            for (const name of link.getAttributeNames()) {
                link.removeAttribute(name);
            }
            link.setAttribute("href", href);
        } else {
            unwrap(link);
        }
    }
    for (const cell of Array.from(body.querySelectorAll("td,th,blockquote,pre"))) {
        rename(cell, "p");
    }
    for (const element of Array.from(body.querySelectorAll("*"))) {
        if (element.tagName !== "A") {
            for (const name of element.getAttributeNames()) {
                element.removeAttribute(name);
            }
        }
    }
    for (const wrapper of Array.from(body.querySelectorAll("table,tbody,thead,tfoot,tr,section,article,main,header,footer"))) {
        unwrap(wrapper);
    }
    body.querySelectorAll(BLOCKS).forEach((block) => {
        if (isEmpty(block) && !block.querySelector(BLOCKS)) {
            block.remove();
        }
    });
    Array.from(body.children)
        .filter((element) => element.tagName === "BR")
        .forEach((element) => element.remove());
    return body.innerHTML;
}
