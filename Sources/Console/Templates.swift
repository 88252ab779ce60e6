import Mustache

/// The console's pages as Mustache templates (`{{x}}` is HTML-escaped; `{{{x}}}` only for
/// markup this module built itself, such as the SVG charts). `{{t.area_thing}}` is the localized
/// string of catalogue key `area.thing` (Mustache reads dots as nesting).
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("login", login), ("overview", overview), ("search", search), ("timeline", timeline), ("error", error),
            ("queues", queues), ("egress", egress), ("accounts", accounts), ("audit", audit), ("suppressions", suppressions),
            ("webhooks", webhooks), ("campaigns", campaigns), ("campaign", campaign),
        ] {
            // The templates are constants of this file: a syntax error is a programming error.
            library.register(try! MustacheTemplate(string: text), named: name)
        }
        return library
    }()

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>{{title}} · {{t.app_title}}</title><link rel="stylesheet" href="/static/console.css"></head>
        <body><header><strong>{{t.app_title}}</strong>
        {{#viewer}}<nav><a href="/">{{t.nav_overview}}</a> <a href="/search">{{t.nav_search}}</a> <a href="/suppressions">{{t.nav_suppressions}}</a> <a href="/webhooks">{{t.nav_webhooks}}</a> <a href="/campaigns">{{t.nav_campaigns}}</a>
        {{#isOperator}}<a href="/ops/queues">{{t.nav_queues}}</a> <a href="/ops/egress">{{t.nav_egress}}</a> <a href="/ops/accounts">{{t.nav_accounts}}</a> <a href="/ops/audit">{{t.nav_audit}}</a>{{/isOperator}}</nav>
        <span class="who">{{viewer.user}} ({{viewerRole}}{{#viewer.account}}: {{viewer.account}}{{/viewer.account}})</span>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{viewer.csrf}}"><button>{{t.nav_logout}}</button></form>{{/viewer}}
        <a class="lang" id="lang-switch" href="/lang/{{otherLang}}?back={{back}}">{{t.nav_language}}</a></header>
        <main>{{{body}}}</main>
        <script>if(!document.cookie.includes("hk_tz=")){document.cookie="hk_tz="+encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone)+"; path=/; SameSite=Lax"}</script>
        </body></html>
        """

    static let login = """
        <h1>{{t.login_title}}</h1>{{#message}}<p class="error">{{message}}</p>{{/message}}
        <form method="post" action="/login" class="login"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.login_name}} <input name="name" autocomplete="username" required autofocus></label>
        <label>{{t.login_password}} <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">{{t.login_submit}}</button></form>
        """

    static let overview = """
        <h1>{{t.overview_title}}</h1>
        <table class="totals"><tr><th></th><th>{{t.overview_accepted}}</th><th>{{t.overview_delivered}}</th><th>{{t.overview_bounced}}</th><th>{{t.overview_deferred}}</th><th>{{t.overview_complaints}}</th><th>{{t.overview_deliveryRate}}</th><th>{{t.overview_bounceRate}}</th><th>{{t.overview_complaintRate}}</th></tr>
        {{#periods}}<tr><th>{{name}}</th><td>{{accepted}}</td><td>{{delivered}}</td><td>{{bounced}}</td><td>{{deferred}}</td><td>{{complaints}}</td><td>{{deliveryRate}}</td><td class="{{bounceClass}}">{{bounceRate}}</td><td class="{{complaintClass}}">{{complaintRate}}</td></tr>{{/periods}}</table>
        <section class="gauges"><div><h3>{{t.overview_bounceRate}} ({{t.overview_limit}} 3%)</h3>{{{bounceGauge}}} {{bounceRate7d}}</div>
        <div><h3>{{t.overview_complaintRate}} ({{t.overview_limit}} 0.3%)</h3>{{{complaintGauge}}} {{complaintRate7d}}</div></section>
        <h2>{{t.overview_perHour}}</h2>{{{hourlyChart}}}
        <p class="legend"><span class="delivered">■</span> {{t.overview_delivered}} <span class="deferred">■</span> {{t.overview_deferred}} <span class="bounced">■</span> {{t.overview_bounced}}</p>
        <h2>{{t.overview_bySite}}</h2><table><tr><th>{{t.overview_site}}</th><th>{{t.overview_delivered}}</th><th>{{t.overview_bounced}}</th><th>{{t.overview_deferred}}</th><th>{{t.overview_deliveryRate}}</th></tr>
        {{#sites}}<tr><td>{{name}}</td><td>{{delivered}}</td><td>{{bounced}}</td><td>{{deferred}}</td><td>{{deliveryRate}}</td></tr>{{/sites}}</table>
        """

    static let search = """
        <h1>{{t.search_title}}</h1>
        <form method="get" action="/search" class="search">
        <label>{{t.search_recipient}} <input name="recipient" value="{{form.recipient}}"></label>
        <label>{{t.search_messageID}} <input name="message_id" value="{{form.message_id}}"></label>
        <label>{{t.search_queueID}} <input name="queue_id" value="{{form.queue_id}}"></label>
        {{#isOperator}}<label>{{t.search_account}} <input name="account" value="{{form.account}}"></label>{{/isOperator}}
        <label>{{t.search_status}} <select name="status"><option value="">{{t.search_any}}</option>{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select></label>
        <label>{{t.search_class}} <select name="class"><option value="">{{t.search_any}}</option>{{#classes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/classes}}</select></label>
        <label>{{t.search_site}} <input name="site" value="{{form.site}}"></label>
        <label>{{t.search_since}} <input name="since" type="datetime-local" value="{{form.since}}"></label>
        <label>{{t.search_until}} <input name="until" type="datetime-local" value="{{form.until}}"></label>
        <button type="submit" id="search-submit">{{t.search_submit}}</button> <a id="csv-link" href="/search.csv?{{queryString}}">{{t.search_csv}}</a></form>
        {{#searched}}{{^rows}}<p class="none">{{t.search_none}}</p>{{/rows}}{{/searched}}
        {{#hasRows}}<table class="results"><tr><th>{{t.search_time}}</th><th>{{t.search_status}}</th><th>{{t.search_recipient}}</th><th>{{t.search_account}}</th><th>{{t.search_site}}</th><th>{{t.search_class}}</th><th>{{t.search_reply}}</th></tr>{{/hasRows}}
        {{#rows}}<tr class="kind-{{kind}}"><td>{{time}}</td><td>{{kindLabel}}</td><td>{{recipient}}</td><td>{{account}}</td><td>{{site}}</td><td>{{bounceClass}}</td><td><a href="/messages/{{queueID}}">{{queueID}}</a> {{reply}}</td></tr>{{/rows}}
        {{#hasRows}}</table>{{/hasRows}}{{#next}}<p><a href="/search?{{next}}">{{t.search_more}}</a></p>{{/next}}
        """

    static let timeline = """
        <h1>{{t.timeline_title}}: {{queueID}}</h1>{{#messageID}}<p>Message-ID: {{messageID}}</p>{{/messageID}}
        <ol class="timeline">{{#events}}<li class="kind-{{kind}}"><time>{{time}}</time> <strong>{{kindLabel}}</strong> {{recipient}}
        {{#attempt}} · {{t.timeline_attempt}} {{attempt}}{{/attempt}}{{#remoteHost}} · {{t.timeline_remote}} {{remoteHost}}{{/remoteHost}}
        {{#bounceClass}} · {{bounceClass}}{{/bounceClass}}{{#reply}}<pre>{{reply}}</pre>{{/reply}}</li>{{/events}}</ol>
        """

    static let error = """
        <h1>{{status}}</h1><p class="error">{{message}}</p>
        """

    static let css = """
        body{font-family:"IPAGothic","Noto Sans CJK JP",system-ui,sans-serif;margin:0;color:#222}
        header{display:flex;gap:1em;align-items:center;padding:.5em 1em;background:#263238;color:#fff}
        header a,header button{color:#fff}header nav a{margin-right:.8em}.who{margin-left:auto}.inline{display:inline}
        main{padding:1em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;font-size:.9em}
        .over{background:#ffcdd2}.error{color:#c62828}.search label,.login label{display:inline-block;margin:.2em .6em .2em 0}
        .chart{width:100%;max-width:720px;border:1px solid #ddd}.gauges{display:flex;gap:2em}
        .notice{background:#e8f5e9;padding:.4em .8em}.secret{background:#fff8e1;padding:.4em .8em}.none{color:#777}
        .suspend label,.chooser label,#suppression-add label,#webhook-add label{display:inline-block;margin:.2em .6em .2em 0}
        .progress{vertical-align:middle}#campaigns .sites{font-size:.85em}.actions button{margin-right:.5em}
        .delivered{color:#2e7d32}.bounced{color:#c62828}.deferred{color:#f9a825}.timeline pre{white-space:pre-wrap;margin:.2em 0}
        """
}
