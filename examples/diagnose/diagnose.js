// The page: runs CometaDiagnose.diagnose (dist/diagnose.min.js) and renders each attempt as it
// ends, then the plain-text report. ?url=, ?path=, ?timeout=, ?echoTimeout= prefill the form;
// ?run starts at once. The last result is on window.diagnosis, its report on window.report.
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  for (const name of ["url", "path", "timeout", "echoTimeout"]) if (params.has(name)) $(name).value = params.get(name);
  if (!$("url").value) $("url").value = location.origin;

  const cell = (row, text, className) => {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const ms = (value) => (value === undefined ? "" : `${Math.round(value)} ms`);
  const rows = new Map();

  function started(name) {
    const row = $("results").insertRow();
    row.dataset.transport = name;
    cell(row, name);
    cell(row, "…", "muted").colSpan = 5;
    rows.set(name, row);
    $("summary").textContent = `Trying ${name}…`;
  }

  function ended(attempt) {
    const row = rows.get(attempt.name);
    while (row.cells.length > 1) row.deleteCell(1);
    if (!attempt.supported) {
      cell(row, "no", "warn");
      cell(row, "", "");
      cell(row, "");
      cell(row, "");
      cell(row, attempt.unsupportedReason, "why");
      return;
    }
    cell(row, "yes");
    const where = attempt.name === "ladder" && attempt.opened ? ` on ${attempt.openedOn}, ended on ${attempt.transport}` : "";
    cell(row, attempt.opened ? `yes${where}` : "no", attempt.opened ? "ok" : "bad");
    cell(row, ms(attempt.handshakeMs));
    cell(row, attempt.echo === "echoed" ? ms(attempt.echoMs) : attempt.echo === "no echo" ? "no echo" : "", attempt.echo === "echoed" ? "ok" : attempt.opened ? "warn" : "");
    const why = cell(row, "", "why");
    const failures = (attempt.error ? [attempt.error] : []).concat(attempt.upgradeErrors);
    for (const failure of failures) why.append(`${failure.name}: ${failure.message}`, document.createElement("br"));
    if (failures.length === 0 && attempt.echo === "no echo") why.append("nothing came back: does the server echo?");
    if (attempt.trace.length > 0) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = `trace (${attempt.trace.length} lines)`;
      const pre = document.createElement("pre");
      pre.textContent = attempt.trace
        .map((line) => `+${Math.round(line.at)} ms [${line.topic}] ${line.message}${line.facts ? ` (${line.facts})` : ""}`)
        .join("\n");
      details.append(summary, pre);
      why.append(details);
    }
  }

  async function run() {
    $("run").disabled = true;
    $("results").replaceChildren();
    rows.clear();
    $("report-section").hidden = true;
    window.diagnosis = window.report = undefined;
    try {
      const diagnosis = await CometaDiagnose.diagnose($("url").value, {
        socket: { path: $("path").value || "/engine.io/" },
        timeout: Number($("timeout").value) || 10000,
        echoTimeout: Number($("echoTimeout").value) || 3000,
        onStart: started,
        onAttempt: ended,
      });
      const alone = diagnosis.attempts.filter((attempt) => attempt.name !== "ladder");
      const opened = alone.filter((attempt) => attempt.opened).length;
      const echoed = alone.filter((attempt) => attempt.echo === "echoed").length;
      $("summary").textContent = diagnosis.ladder
        ? `The default ladder ended on ${diagnosis.ladder}. Alone, ${opened} of ${alone.length} transports opened and ${echoed} echoed.`
        : "The default ladder did not open: see the failures below.";
      $("report").value = CometaDiagnose.formatDiagnosis(diagnosis);
      $("report-section").hidden = false;
      window.report = $("report").value;
      window.diagnosis = diagnosis;
    } catch (error) {
      $("summary").textContent = `${error.name}: ${error.message}`;
    } finally {
      $("run").disabled = false;
    }
  }

  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("report").value);
      $("copied").textContent = "copied";
    } catch {
      // no clipboard permission (an insecure origin): select it for the user to copy
      $("report").select();
      $("copied").textContent = "selected: press Ctrl+C";
    }
  });
  if (params.has("run")) run();
})();
