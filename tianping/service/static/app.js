// The tianping web page: consultation, statute search and browsing over the service's /v1 API.
// Every text from the server is inserted with textContent, never as HTML.
"use strict";

const KEY_STORAGE = "tianping-api-key";
const LANG_STORAGE = "tianping-lang";

const MESSAGES = {
  zh: {
    subtitle: "法律信息服务",
    keyButton: "API 密钥",
    tabConsult: "法律咨询",
    tabSearch: "法条检索",
    tabPredict: "判决预测",
    questionLabel: "您的问题",
    questionPlaceholder: "例如：醉酒驾驶机动车会受到什么处罚？",
    dateLabel: "事件日期（可选）",
    askButton: "提问",
    answerTitle: "回答",
    sourcesTitle: "引用的法条",
    sourcesHint: "点击法条查看全文和版本。",
    checksTitle: "引用核验",
    searchLabel: "关键词或问题",
    searchPlaceholder: "例如：盗窃 数额较大",
    searchButton: "检索",
    lawFilter: "限定法律",
    allLaws: "全部法律",
    dateInForce: "有效日期",
    topK: "条数",
    browseTitle: "按条号查看",
    lawLabel: "法律",
    articleLabel: "条号",
    showButton: "查看",
    predictTitle: "判决预测",
    predictIntro: "根据刑事案件的事实预测可能的罪名、法条和刑期。需要服务加载一个训练好的模型（tianping serve --prediction-model）；未加载时会提示。",
    factLabel: "案件事实",
    predictFacts: "粘贴判决书“经审理查明”部分的事实",
    predictButton: "预测",
    chargesTitle: "可能的罪名",
    termTitle: "刑期",
    articlesTitle: "可能适用的法条",
    predictDisclaimer: "预测来自统计模型，只反映训练数据中的规律，不能代替法官或律师的判断。",
    predictMeta: "置信度 {confidence} · 事件日期 {date}",
    abstained: "模型把握不足（置信度 {confidence}），以下结果仅供参考。",
    probability: "概率 {value}",
    evidence: "依据词：{words}",
    termMonths: "{months} 个月（拘役或有期徒刑）",
    termMonthsPrison: "{months} 个月（有期徒刑）",
    termLife: "无期徒刑",
    termDeath: "死刑",
    termNone: "不判处拘役或有期徒刑",
    termBasis: "（依据事实中的量刑建议 {span} 个月，取其中点的 {share}）",
    noCharges: "没有达到阈值的罪名。",
    closeButton: "关闭",
    prevButton: "上一条",
    nextButton: "下一条",
    versionsTitle: "版本",
    colEffective: "施行日期",
    colStatus: "状态",
    colAmendedBy: "修正文件",
    keyTitle: "输入 API 密钥",
    keyHint: "密钥由管理员用 tianping keys create 创建，只保存在本标签页中，关闭标签页即清除。",
    saveButton: "保存",
    clearButton: "清除",
    footer: "以上内容为法律信息，不构成法律意见；具体案件请咨询执业律师。",
    answerMeta: "按 {date} 有效的版本 · 方式：{mode} · 置信度 {confidence}",
    articleMeta: "{status} · {effective} 起施行 · 版本日期 {version}",
    amendedBy: "修正文件：{name}",
    viewedOn: "（按 {date} 有效的版本）",
    noHits: "没有找到相关法条。",
    noChecks: "回答中没有需要核验的引用。",
    searchMeta: "按 {date} 有效的版本 · 方式：{mode} · 共 {count} 条",
    loading: "正在处理……",
    needKey: "请先输入 API 密钥。",
    networkError: "无法连接服务，请检查网络后重试。",
    unknownDate: "日期不详",
  },
  en: {
    subtitle: "Legal information service",
    keyButton: "API key",
    tabConsult: "Consultation",
    tabSearch: "Statute search",
    tabPredict: "Judgment prediction",
    questionLabel: "Your question (in Chinese)",
    questionPlaceholder: "e.g. 醉酒驾驶机动车会受到什么处罚？",
    dateLabel: "Date of the events (optional)",
    askButton: "Ask",
    answerTitle: "Answer",
    sourcesTitle: "Cited articles",
    sourcesHint: "Click an article to read its full text and versions.",
    checksTitle: "Citation checks",
    searchLabel: "Keywords or question",
    searchPlaceholder: "e.g. 盗窃 数额较大",
    searchButton: "Search",
    lawFilter: "Law",
    allLaws: "All laws",
    dateInForce: "In force on",
    topK: "Results",
    browseTitle: "Open an article by number",
    lawLabel: "Law",
    articleLabel: "Article",
    showButton: "Open",
    predictTitle: "Judgment prediction",
    predictIntro: "Predicts the likely charges, articles and prison term from the facts of a criminal case. The service needs a trained model (tianping serve --prediction-model) and says so when it has none.",
    factLabel: "Facts of the case (in Chinese)",
    predictFacts: "Paste the facts found by the court (经审理查明)",
    predictButton: "Predict",
    chargesTitle: "Likely charges",
    termTitle: "Prison term",
    articlesTitle: "Likely articles",
    predictDisclaimer: "Predictions come from a statistical model that reflects its training data; they do not replace a judge's or lawyer's judgment.",
    predictMeta: "confidence {confidence} · date of events {date}",
    abstained: "The model is not confident (confidence {confidence}), so treat these results as a hint only.",
    probability: "probability {value}",
    evidence: "words that weighed most: {words}",
    termMonths: "{months} months (criminal detention or fixed-term imprisonment)",
    termMonthsPrison: "{months} months (fixed-term imprisonment)",
    termLife: "life imprisonment",
    termDeath: "death penalty",
    termNone: "no criminal detention or fixed-term imprisonment",
    termBasis: " (from the sentencing recommendation in the facts, {span} months: {share} of its middle)",
    noCharges: "No charge reached the threshold.",
    closeButton: "Close",
    prevButton: "Previous",
    nextButton: "Next",
    versionsTitle: "Versions",
    colEffective: "In force from",
    colStatus: "Status",
    colAmendedBy: "Amended by",
    keyTitle: "Enter your API key",
    keyHint: "An administrator creates keys with tianping keys create. The key stays in this tab only and is cleared when the tab closes.",
    saveButton: "Save",
    clearButton: "Clear",
    footer: "This is legal information, not legal advice; consult a licensed lawyer about a specific case.",
    answerMeta: "Versions in force on {date} · retrieval: {mode} · confidence {confidence}",
    articleMeta: "{status} · in force from {effective} · version of {version}",
    amendedBy: "Amended by: {name}",
    viewedOn: "(version in force on {date})",
    noHits: "No matching articles.",
    noChecks: "The answer cites no articles to check.",
    searchMeta: "Versions in force on {date} · retrieval: {mode} · {count} results",
    loading: "Working…",
    needKey: "Please enter an API key first.",
    networkError: "Cannot reach the service; check the connection and retry.",
    unknownDate: "unknown",
  },
};

let language = localStorage.getItem(LANG_STORAGE) === "en" ? "en" : "zh";
let lawsLoaded = false;
let viewerArticle = null;

function $(id) {
  return document.getElementById(id);
}

function t(key, values = {}) {
  const template = MESSAGES[language][key] ?? MESSAGES.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = language === "en" ? "en" : "zh-CN";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  $("lang-button").textContent = language === "en" ? "中文" : "English";
  $("lang-button").lang = language === "en" ? "zh-CN" : "en";
}

function showMessage(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

function askForKey() {
  $("key-input").value = apiKey();
  $("key-dialog").showModal();
}

// Call the API; returns the parsed JSON, or throws an Error whose message is the server's Chinese message.
async function callApi(path, options = {}) {
  if (!apiKey()) {
    askForKey();
    throw new Error(t("needKey"));
  }
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (options.body) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    throw new Error(t("networkError"));
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) {
      askForKey();
    }
    const message = payload && payload.error ? payload.error.message : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return payload;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function citationButton(law, article, date, label) {
  const button = element("button", "cite-link", label || `《${law}》${article}`);
  button.type = "button";
  button.addEventListener("click", () => openArticle(law, article, date));
  return button;
}

async function withBusy(button, work) {
  button.disabled = true;
  showMessage("");
  try {
    await work();
  } catch (error) {
    showMessage(error.message);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ consultation

function renderAnswer(result) {
  $("answer-area").hidden = false;
  $("answer-meta").textContent = t("answerMeta", {
    date: result.date, mode: result.mode, confidence: Number(result.confidence).toFixed(2),
  });
  $("answer-text").textContent = result.answer;
  $("answer-disclaimer").textContent = result.disclaimer;

  const notes = $("answer-notes");
  notes.replaceChildren(...result.notes.map((note) => element("li", "", note)));

  const sources = $("source-list");
  sources.replaceChildren(...result.sources.map((source) => {
    const item = element("li");
    item.append(citationButton(source.law, source.article, result.date));
    item.append(element("span", "badge", source.status));
    item.append(element("span", "snippet", source.text.slice(0, 80) + (source.text.length > 80 ? "…" : "")));
    return item;
  }));

  const checks = $("check-list");
  if (!result.citations.length) {
    checks.replaceChildren(element("li", "hint", t("noChecks")));
  } else {
    checks.replaceChildren(...result.citations.map((check) => {
      const item = element("li", check.valid ? "valid" : "invalid");
      if (check.valid && check.law && check.article) {
        item.append(citationButton(check.law, check.article, result.date, check.text));
      } else {
        item.append(element("span", "", check.text));
      }
      item.append(element("span", "snippet", check.message));
      return item;
    }));
  }
}

async function submitQuestion(event) {
  event.preventDefault();
  await withBusy($("ask-submit"), async () => {
    const body = { question: $("question").value };
    if ($("ask-date").value) {
      body.date = $("ask-date").value;
    }
    const result = await callApi("/v1/ask", { method: "POST", body: JSON.stringify(body) });
    renderAnswer(result);
  });
}

// ------------------------------------------------------------------ search and browsing

async function loadLaws() {
  if (lawsLoaded || !apiKey()) {
    return;
  }
  const payload = await callApi("/v1/laws");
  lawsLoaded = true;
  const filter = $("search-law");
  const browse = $("browse-law");
  filter.replaceChildren(filter.options[0]);
  browse.replaceChildren();
  for (const law of payload.laws) {
    const label = law.short_name || law.law;
    filter.append(new Option(label, law.law));
    browse.append(new Option(label, law.law));
  }
}

async function submitSearch(event) {
  event.preventDefault();
  await withBusy($("search-submit"), async () => {
    const parameters = new URLSearchParams({ q: $("search-query").value, top_k: $("search-top-k").value || "10" });
    if ($("search-law").value) {
      parameters.set("law", $("search-law").value);
    }
    if ($("search-date").value) {
      parameters.set("date", $("search-date").value);
    }
    const result = await callApi(`/v1/statutes/search?${parameters}`);
    $("search-notes").textContent = [
      t("searchMeta", { date: result.date, mode: result.mode, count: result.hits.length }), ...result.notes,
    ].join(" · ");
    const list = $("search-results");
    if (!result.hits.length) {
      list.replaceChildren(element("li", "hint", t("noHits")));
      return;
    }
    list.replaceChildren(...result.hits.map((hit) => {
      const item = element("li");
      item.append(citationButton(hit.law, hit.article, result.date));
      item.append(element("span", "badge", hit.status));
      item.append(element("span", "snippet", hit.text));
      return item;
    }));
  });
}

async function submitBrowse(event) {
  event.preventDefault();
  await openArticle($("browse-law").value, $("browse-article").value.trim(), $("search-date").value || null);
}

// ------------------------------------------------------------------ article viewer

async function openArticle(law, article, date) {
  showMessage("");
  const parameters = date ? `?${new URLSearchParams({ date })}` : "";
  let payload;
  try {
    payload = await callApi(`/v1/statutes/${encodeURIComponent(law)}/${encodeURIComponent(article)}${parameters}`);
  } catch (error) {
    showMessage(error.message);
    return;
  }

  viewerArticle = { law: payload.law, number: payload.article_number, date };
  $("viewer-title").textContent = `《${payload.law}》${payload.article}`;
  $("viewer-meta").textContent = [
    t("articleMeta", {
      status: payload.status,
      effective: payload.effective_date || t("unknownDate"),
      version: payload.version_date || t("unknownDate"),
    }),
    payload.amended_by ? t("amendedBy", { name: payload.amended_by }) : "",
    t("viewedOn", { date: payload.date }),
  ].filter(Boolean).join(" · ");
  $("viewer-path").textContent = payload.path.join(" / ");
  $("viewer-text").textContent = payload.text;

  $("viewer-versions").replaceChildren(...payload.versions.map((version) => {
    const row = element("tr");
    row.append(element("td", "", version.effective_date || t("unknownDate")));
    row.append(element("td", "", version.status));
    row.append(element("td", "", version.amended_by || "—"));
    return row;
  }));

  $("viewer-prev").disabled = payload.article_number <= 1;
  $("article-viewer").hidden = false;
  $("viewer-close").focus();
}

function stepArticle(step) {
  if (viewerArticle) {
    openArticle(viewerArticle.law, String(viewerArticle.number + step), viewerArticle.date);
  }
}

// ------------------------------------------------------------------ judgment prediction

function termText(term) {
  if (term.death_penalty) {
    return t("termDeath");
  }
  if (term.life_imprisonment) {
    return t("termLife");
  }
  if (!term.months) {
    return t("termNone");
  }
  // Criminal detention for one offence lasts at most six months, so a longer term is imprisonment.
  return t(term.months > 6 ? "termMonthsPrison" : "termMonths", { months: term.months });
}

function renderPrediction(result) {
  $("predict-result").hidden = false;
  $("predict-meta").textContent = t("predictMeta", {
    confidence: Number(result.confidence).toFixed(2), date: result.event_date || t("unknownDate"),
  });
  $("predict-abstained").hidden = !result.abstained;
  $("predict-abstained").textContent = t("abstained", { confidence: Number(result.confidence).toFixed(2) });

  const charges = $("charge-list");
  if (!result.charges.length) {
    charges.replaceChildren(element("li", "hint", t("noCharges")));
  } else {
    charges.replaceChildren(...result.charges.map((charge) => {
      // CAIL2018 brackets the alternatives of a charge name ([引诱、容留、介绍]卖淫), the law does not.
      const item = element("li", "", `${charge.name.replace(/[[\]]/g, "")}罪 `);
      item.append(element("span", "badge", t("probability", { value: Number(charge.probability).toFixed(2) })));
      if (charge.evidence && charge.evidence.length) {
        item.append(element("span", "snippet", t("evidence", { words: charge.evidence.join("、") })));
      }
      return item;
    }));
  }
  let term = termText(result.term);
  if (result.term_basis) {
    const [low, high] = result.term_basis.recommended_months;
    const span = low === high ? String(low) : `${low}–${high}`;
    term += t("termBasis", { span, share: Number(result.term_basis.share).toFixed(2) });
  }
  $("predict-term").textContent = term;

  $("predict-articles").replaceChildren(...result.articles.map((article) => {
    const item = element("li");
    // An inserted article (第一百三十三条之一) that defines the charge replaces the labelled one.
    const cited = article.provision || String(article.article_number);
    const label = article.provision ? `《中华人民共和国刑法》${article.provision}` : `《中华人民共和国刑法》第${cited}条`;
    item.append(citationButton("中华人民共和国刑法", cited, result.event_date, label));
    item.append(element("span", "badge", t("probability", { value: Number(article.probability).toFixed(2) })));
    if (article.text) {
      item.append(element("span", "snippet", article.text.slice(0, 80) + (article.text.length > 80 ? "…" : "")));
    }
    if (article.note) {
      item.append(element("span", "snippet article-note", article.note));
    }
    return item;
  }));
}

async function submitPrediction(event) {
  event.preventDefault();
  await withBusy($("predict-submit"), async () => {
    const body = { fact: $("predict-fact").value };
    const result = await callApi("/v1/predict", { method: "POST", body: JSON.stringify(body) });
    renderPrediction(result);
  });
}

// ------------------------------------------------------------------ tabs, key and language

function selectTab(name) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(selected));
    $(`panel-${tab.dataset.tab}`).hidden = !selected;
  }
  if (name === "search") {
    loadLaws().catch((error) => showMessage(error.message));
  }
}

function setUp() {
  applyLanguage();
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  }
  $("ask-form").addEventListener("submit", submitQuestion);
  $("search-form").addEventListener("submit", submitSearch);
  $("browse-form").addEventListener("submit", submitBrowse);
  $("predict-form").addEventListener("submit", submitPrediction);

  $("viewer-close").addEventListener("click", () => { $("article-viewer").hidden = true; });
  $("article-viewer").addEventListener("click", (event) => {
    if (event.target === $("article-viewer")) {
      $("article-viewer").hidden = true;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      $("article-viewer").hidden = true;
    }
  });
  $("viewer-prev").addEventListener("click", () => stepArticle(-1));
  $("viewer-next").addEventListener("click", () => stepArticle(1));

  $("key-button").addEventListener("click", askForKey);
  $("key-form").addEventListener("submit", () => {
    sessionStorage.setItem(KEY_STORAGE, $("key-input").value.trim());
    lawsLoaded = false;
    showMessage("");
  });
  $("key-clear").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    $("key-input").value = "";
    $("key-dialog").close();
  });

  $("lang-button").addEventListener("click", () => {
    language = language === "en" ? "zh" : "en";
    localStorage.setItem(LANG_STORAGE, language);
    applyLanguage();
  });
  if (!apiKey()) {
    askForKey();
  }
}

setUp();
