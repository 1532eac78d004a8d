// The page's whole stylesheet, inlined (by nonce) so the page needs nothing from anywhere else:
// system fonts, light and dark colours from `prefers-color-scheme`, one column on a phone.
export const STYLES = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1b1f24;--muted:#57606a;--card:#fff;--line:#d0d7de;--link:#0550ae;
--ok:#116329;--ok-bg:#dafbe1;--bad:#a40e26;--bad-bg:#ffebe9;--warn:#7d4e00;--warn-bg:#fff8c5;--run:#0550ae;--run-bg:#ddf4ff;
--idle:#424a53;--idle-bg:#eaeef2;--primary:#0969da;--primary-fg:#fff;--danger:#cf222e;--danger-fg:#fff;
--bar-ok:#2da44e;--bar-bad:#cf222e;--bar-none:#d0d7de}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9aa3ad;--card:#161b22;--line:#30363d;--link:#6cb6ff;
--ok:#56d364;--ok-bg:#12261e;--bad:#ff7b72;--bad-bg:#3a1418;--warn:#e3b341;--warn-bg:#2e2410;--run:#79c0ff;--run-bg:#112542;
--idle:#c9d1d9;--idle-bg:#272d35;--primary:#388bfd;--primary-fg:#0d1117;--danger:#f85149;--danger-fg:#0d1117;
--bar-ok:#3fb950;--bar-bad:#f85149;--bar-none:#30363d}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:var(--link)}
header.bar{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;justify-content:space-between;padding:.55rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
header.bar nav{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center}
header.bar form{margin:0}
.brand{font-weight:700;font-size:1.05rem;text-decoration:none;color:var(--fg)}
main{max-width:72rem;margin:0 auto;padding:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.9rem 1rem;margin:0 0 1rem;min-width:0}
h1{font-size:1.45rem;margin:.1rem 0 .7rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:0 0 .6rem}
h3{font-size:1rem;margin:.9rem 0 .4rem}
p{margin:.3rem 0 .6rem}
.muted{color:var(--muted)}
.small{font-size:.85rem}
code,.sha{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em}
.message{overflow-wrap:anywhere}
.badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap;background:var(--idle-bg);color:var(--idle)}
.badge.succeeded,.badge.connected,.badge.idle-ok{background:var(--ok-bg);color:var(--ok)}
.badge.failed,.badge.disconnected,.badge.unfinished{background:var(--bad-bg);color:var(--bad)}
.badge.rolled_back,.badge.drift,.badge.waiting,.badge.waiting_for_window{background:var(--warn-bg);color:var(--warn)}
.badge.running,.badge.dispatched,.badge.deploying{background:var(--run-bg);color:var(--run)}
.badge.enqueued,.badge.ok{background:var(--ok-bg);color:var(--ok)}
.badge.rejected,.badge.invalid,.badge.refused{background:var(--bad-bg);color:var(--bad)}
.badge.ignored{background:var(--warn-bg);color:var(--warn)}
.badge.frozen{background:var(--run-bg);color:var(--run)}
.targets{display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,26rem),1fr))}
.target-head{display:flex;flex-wrap:wrap;gap:.3rem .7rem;align-items:baseline;justify-content:space-between}
.target-head h2{margin:0}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.3rem 1rem;margin:.6rem 0 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-top:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;color:var(--muted);font-weight:600;border-top:none;white-space:nowrap}
tr.selected td{background:var(--run-bg)}
#history td.status{min-width:10rem}
#history td.commit{min-width:12rem}
#history td.backup code{font-size:.78rem}
#backups td.id code{font-size:.78rem}
#deliveries summary{overflow-wrap:anywhere}
#deliveries .scroll{margin-top:.5rem}
#deliveries td.reason{min-width:14rem}
#deliveries td.when{min-width:9rem}
#deliveries td.ref{min-width:7rem}
#deliveries td.deployment{min-width:10rem}
#deliveries td.deployment code,#deliveries td.ref code{font-size:.78rem;overflow-wrap:anywhere}
#backups td[data-bytes],#backups td[data-files]{font-variant-numeric:tabular-nums;white-space:nowrap}
.clamp{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
.actions{display:flex;flex-wrap:wrap;gap:.1rem .8rem;margin-top:.2rem}
details summary{cursor:pointer}
ul.files{margin:.3rem 0 0;padding-left:1.1rem;overflow-wrap:anywhere}
ul.drift-files{margin:.3rem 0 0;padding-left:1.1rem;overflow-wrap:anywhere}
ul.drift-files li{margin:.35rem 0}
pre.diff{overflow-x:auto;font:.8rem/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem;margin:.3rem 0;white-space:pre}
pre.diff .add{color:var(--ok)}
pre.diff .del{color:var(--bad)}
pre.diff .hunk{color:var(--muted)}
.drift-ways{border-left:4px solid var(--warn);background:var(--warn-bg);padding:.5rem .8rem;border-radius:4px;margin:.5rem 0}
ol.steps{list-style:none;padding:0;margin:0}
ol.steps li{display:grid;grid-template-columns:6.2rem 6.5rem minmax(0,1fr) auto;gap:.2rem .6rem;align-items:baseline;padding:.4rem 0;border-top:1px solid var(--line)}
ol.steps li:first-child{border-top:none}
ol.steps li>*{grid-row:1}
ol.steps .step-name{font-weight:600;grid-column:1}
ol.steps .step-state{grid-column:2}
ol.steps .step-message{grid-column:3;overflow-wrap:anywhere}
ol.steps .step-duration{grid-column:4;text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
ol.steps li[data-status=pending]{color:var(--muted)}
ol.events{list-style:none;padding:0;margin:0;font-size:.85rem}
ol.events li{padding:.2rem 0;border-top:1px dashed var(--line);overflow-wrap:anywhere}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.6rem;margin-bottom:.8rem}
.metric{border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem}
.metric b{display:block;font-size:1.3rem;font-variant-numeric:tabular-nums}
.metric span{color:var(--muted);font-size:.82rem}
svg.chart{display:block;width:100%;height:6.5rem}
.chart-axis{display:flex;justify-content:space-between;font-size:.78rem;color:var(--muted);margin-top:.15rem}
svg.chart .ok{fill:var(--bar-ok)}
svg.chart .bad{fill:var(--bar-bad)}
svg.chart .none{fill:var(--bar-none)}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.82rem;color:var(--muted);margin-top:.3rem}
.legend span{white-space:nowrap}
.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.legend i.ok{background:var(--bar-ok)}
.legend i.bad{background:var(--bar-bad)}
form.inline{display:inline}
.controls{display:flex;flex-wrap:wrap;gap:.8rem 1.5rem;align-items:flex-end}
.controls form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:0}
.controls form>div{flex:1 1 16rem;min-width:0;max-width:27rem}
label{display:block;font-size:.85rem;color:var(--muted);margin-bottom:.2rem}
input[type=text],input[type=password]{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);width:100%;max-width:28rem}
select{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
input.sha-input{width:100%;max-width:27rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
button,.button{font:inherit;font-weight:600;padding:.45rem .95rem;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;text-decoration:none;display:inline-block;line-height:1.3}
button.primary,.button.primary{background:var(--primary);border-color:var(--primary);color:var(--primary-fg)}
button.danger,.button.danger{background:var(--danger);border-color:var(--danger);color:var(--danger-fg)}
button.link{border:none;background:none;color:var(--link);padding:0;font-weight:400;text-decoration:underline}
.confirm{max-width:40rem}
.confirm .question{font-size:1.15rem;font-weight:600;overflow-wrap:anywhere}
.confirm .buttons{display:flex;gap:.8rem;flex-wrap:wrap;margin-top:1rem}
.notice{border-left:4px solid var(--warn);background:var(--warn-bg);padding:.5rem .8rem;border-radius:4px;margin:.5rem 0}
.error{border-left:4px solid var(--bad);background:var(--bad-bg);padding:.5rem .8rem;border-radius:4px;margin:.5rem 0}
.live-state{font-size:.8rem;color:var(--muted);white-space:nowrap}
.live-state[data-state=live]::before{content:"\\25CF  ";color:var(--ok)}
.live-state[data-state=reconnecting]::before{content:"\\25CB  ";color:var(--warn)}
.sign-in{max-width:26rem;margin:2rem auto}
.sign-in form > *{margin-bottom:.8rem}
@media (max-width:40rem){
 main{padding:.6rem}
 .card{padding:.75rem}
 h1{font-size:1.25rem}
 ol.steps li{grid-template-columns:5.5rem minmax(0,1fr) auto}
 ol.steps .step-duration{grid-column:3}
 ol.steps .step-message{grid-column:1 / -1;grid-row:2;font-size:.85rem}
 dl.facts{grid-template-columns:minmax(0,1fr)}
 dl.facts dt{margin-top:.3rem}
 th,td{padding:.35rem .35rem}
 #history table,#history tbody,#backups table,#backups tbody,#deliveries table,#deliveries tbody{display:block}
 #history thead,#backups thead,#deliveries thead{display:none}
 #history tr,#backups tr,#deliveries tr{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:0 .6rem;padding:.5rem 0;border-top:1px solid var(--line)}
 #history td,#backups td,#deliveries td{display:block;border:none;padding:.15rem 0;min-width:0}
 #backups td,#deliveries td{overflow-wrap:anywhere}
 #history td::before,#backups td::before,#deliveries td::before{content:attr(data-label);display:block;font-size:.72rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
 #history td.id,#history td.commit,#backups td.id,#deliveries td.when,#deliveries td.deployment,#deliveries td.reason{grid-column:1 / -1}
 #deliveries td.reason,#deliveries td.when,#deliveries td.ref,#deliveries td.deployment{min-width:0}
 #history td.status,#history td.commit{min-width:0}
 #history tr.selected{background:var(--run-bg)}
}
`;
