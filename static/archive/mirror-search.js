/* Search in a static copy of the archive (manage.py export_static), answered in the browser.

   search/index.js sets window.BELLCMS_SEARCH = {stories: [{headline, url, issue, date,
   datetime, text}, ...]}, newest issue first. This reads ?q= from the address, keeps the stories
   holding every word (case and accents ignored), puts headline matches first and shows at most
   MAX_RESULTS of them with a snippet. Everything from the index goes into the page as text
   (createTextNode, textContent), never as markup. */
(function () {
  "use strict";

  var MAX_RESULTS = 50;
  var MAX_WORDS = 8; // as many as the server's search reads
  var BEFORE = 60; // characters of context before the first match in a snippet
  var AFTER = 180; // ... and after it
  // Combining marks, but not U+0306 (the breve of й, a letter of its own in Russian).
  var MARKS = /[\u0300-\u0305\u0307-\u036f]/g;
  var QUOTES = { "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"' };

  function fold(text) {
    return text
      .toLowerCase()
      .normalize("NFD")
      .replace(MARKS, "")
      .replace(/[\u2018\u2019\u02bc\u201c\u201d]/g, function (quote) {
        return QUOTES[quote];
      });
  }

  // The folded text and, for each of its characters, where it came from in the original:
  // folding may change lengths ("İ" becomes two characters), and marks go where the reader
  // sees the words.
  function foldWithMap(text) {
    var folded = "";
    var map = [];
    for (var i = 0; i < text.length; ) {
      var code = text.charCodeAt(i);
      var size = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
      var piece = fold(text.substr(i, size));
      for (var j = 0; j < piece.length; j++) {
        map.push(i);
      }
      folded += piece;
      i += size;
    }
    map.push(text.length);
    return { folded: folded, map: map };
  }

  function queryWords() {
    var query = new URLSearchParams(window.location.search).get("q") || "";
    var seen = {};
    var words = fold(query)
      .split(/\s+/)
      .filter(function (word) {
        if (!word || seen[word]) {
          return false;
        }
        seen[word] = true;
        return true;
      })
      .slice(0, MAX_WORDS);
    return { query: query, words: words };
  }

  function matches(stories, words) {
    var found = [];
    stories.forEach(function (story, order) {
      var headline = fold(story.headline);
      var body = fold(story.text);
      var inHeadline = 0;
      for (var i = 0; i < words.length; i++) {
        var there = headline.indexOf(words[i]) !== -1;
        if (!there && body.indexOf(words[i]) === -1) {
          return;
        }
        inHeadline += there ? 1 : 0;
      }
      found.push({ story: story, score: inHeadline, order: order });
    });
    found.sort(function (a, b) {
      return b.score - a.score || a.order - b.order;
    });
    return found;
  }

  // [start, end) ranges of the original text where any word occurs, merged, in order.
  function ranges(text, words) {
    var folded = foldWithMap(text);
    var found = [];
    words.forEach(function (word) {
      var at = folded.folded.indexOf(word);
      while (at !== -1) {
        found.push([folded.map[at], folded.map[at + word.length]]);
        at = folded.folded.indexOf(word, at + word.length);
      }
    });
    found.sort(function (a, b) {
      return a[0] - b[0];
    });
    var merged = [];
    found.forEach(function (range) {
      var last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) {
        last[1] = Math.max(last[1], range[1]);
      } else {
        merged.push(range.slice());
      }
    });
    return merged;
  }

  // Text with <mark> around the ranges, from start to end of the original.
  function marked(parent, text, spans, start, end) {
    var at = start;
    spans.forEach(function (span) {
      var from = Math.max(span[0], start);
      var to = Math.min(span[1], end);
      if (from >= to) {
        return;
      }
      parent.appendChild(document.createTextNode(text.slice(at, from)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(from, to);
      parent.appendChild(mark);
      at = to;
    });
    parent.appendChild(document.createTextNode(text.slice(at, end)));
  }

  function snippet(text, words) {
    var spans = ranges(text, words);
    var paragraph = document.createElement("p");
    paragraph.className = "snippet";
    var first = spans.length ? spans[0][0] : 0;
    var start = Math.max(0, first - BEFORE);
    var end = Math.min(text.length, first + AFTER);
    // Whole words at both ends.
    if (start > 0) {
      var space = text.indexOf(" ", start);
      start = space !== -1 && space < first ? space + 1 : start;
    }
    if (end < text.length) {
      var lastSpace = text.lastIndexOf(" ", end);
      end = lastSpace > first ? lastSpace : end;
    }
    if (start > 0) {
      paragraph.appendChild(document.createTextNode("…"));
    }
    marked(paragraph, text, spans, start, end);
    if (end < text.length) {
      paragraph.appendChild(document.createTextNode("…"));
    }
    return paragraph;
  }

  function result(story, words, root) {
    var item = document.createElement("li");
    var heading = document.createElement("h2");
    var link = document.createElement("a");
    // Addresses in the index are relative to the copy's root, never a scheme (javascript:).
    link.href = /^[a-z][a-z0-9+.-]*:/i.test(story.url) ? "#" : root + story.url;
    marked(link, story.headline, ranges(story.headline, words), 0, story.headline.length);
    heading.appendChild(link);
    item.appendChild(heading);
    var meta = document.createElement("p");
    meta.className = "muted";
    var time = document.createElement("time");
    time.dateTime = story.datetime;
    time.textContent = story.date;
    meta.appendChild(document.createTextNode(story.issue + " · "));
    meta.appendChild(time);
    item.appendChild(meta);
    item.appendChild(snippet(story.text, words));
    return item;
  }

  function run() {
    var box = document.getElementById("mirror-search");
    var status = document.getElementById("mirror-search-status");
    var list = document.getElementById("mirror-search-results");
    if (!box || !status || !list) {
      return;
    }
    var asked = queryWords();
    var input = document.querySelector('form[role="search"] input[name="q"]');
    if (input) {
      input.value = asked.query;
    }
    var index = window.BELLCMS_SEARCH;
    if (!index || !Array.isArray(index.stories)) {
      status.textContent = box.dataset.missing;
      return;
    }
    if (!asked.words.length) {
      status.textContent = box.dataset.empty;
      return;
    }
    var found = matches(index.stories, asked.words);
    if (!found.length) {
      status.textContent = box.dataset.none;
      return;
    }
    var message = box.dataset.found.replace("{count}", String(found.length));
    if (found.length > MAX_RESULTS) {
      message += " " + box.dataset.more.replace("{shown}", String(MAX_RESULTS));
    }
    status.textContent = message;
    found.slice(0, MAX_RESULTS).forEach(function (hit) {
      list.appendChild(result(hit.story, asked.words, box.dataset.root || ""));
    });
  }

  run();
})();
