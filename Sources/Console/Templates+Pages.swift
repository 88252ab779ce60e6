/// The operator pages and the account's lists. Every form that changes something posts
/// the session's CSRF token (`{{csrf}}`, set by ``ConsolePages/render``).
extension Templates {
    static let notice = """
        {{#notice}}<p class="notice" id="notice">{{notice}}</p>{{/notice}}{{#error}}<p class="error" id="form-error">{{error}}</p>{{/error}}
        """

    static let queues = """
        <h1>{{t.queue_title}}</h1>\(notice)
        {{#pools}}<h2>{{t.queue_pool}} {{pool}} · {{t.queue_depth}} {{depth}}</h2>
        <table class="queue" data-pool="{{pool}}"><tr><th>{{t.queue_domain}}</th><th>{{t.queue_queued}}</th><th>{{t.queue_claimed}}</th><th>{{t.queue_deferred}}</th><th>{{t.queue_rcpts}}</th><th>{{t.queue_nextRetry}}</th><th>{{t.queue_ready}}</th></tr>
        {{#destinations}}<tr><td>{{domain}}</td><td>{{queued}}</td><td>{{claimed}}</td><td>{{deferredItems}}</td><td>{{deferredRecipients}}</td><td>{{nextRetry}}</td><td>{{ready}}</td></tr>{{/destinations}}
        {{^destinations}}<tr><td colspan="7" class="none">{{t.queue_empty}}</td></tr>{{/destinations}}</table>{{/pools}}
        <h2>{{t.queue_suspensions}}</h2>
        <table id="suspensions"><tr><th>{{t.queue_target}}</th><th>{{t.queue_left}}</th><th>{{t.queue_reason}}</th><th>{{t.queue_rule}}</th><th></th></tr>
        {{#suspensions}}<tr><td>{{target}}</td><td>{{left}}</td><td>{{reason}}</td><td>{{rule}}</td><td><form method="post" action="/ops/resume" class="inline">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="kind" value="{{kind}}"><input type="hidden" name="site" value="{{site}}"><input type="hidden" name="ip" value="{{ip}}">
        <button class="resume">{{t.queue_resume}}</button></form></td></tr>{{/suspensions}}
        {{^suspensions}}<tr><td colspan="5" class="none">{{t.queue_noSuspensions}}</td></tr>{{/suspensions}}</table>
        <form method="post" action="/ops/suspend" class="suspend" id="suspend-form"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.queue_kind}} <select name="kind"><option value="site">{{t.queue_kindSite}}</option><option value="ip">{{t.queue_kindIP}}</option></select></label>
        <label>{{t.queue_site}} <input name="site" placeholder="gmail"></label> <label>{{t.queue_ip}} <input name="ip" placeholder="192.0.2.10"></label>
        <label>{{t.queue_duration}} <input name="duration" value="30m" required size="6"></label> <label>{{t.queue_reason}} <input name="reason"></label>
        <button type="submit">{{t.queue_suspend}}</button></form>
        <h2>{{t.queue_slowdowns}}</h2><table id="slowdowns"><tr><th>IP</th><th>{{t.queue_site}}</th><th>{{t.queue_factor}}</th><th>{{t.queue_left}}</th></tr>
        {{#slowdowns}}<tr><td>{{ip}}</td><td>{{site}}</td><td>{{factor}}</td><td>{{left}}</td></tr>{{/slowdowns}}
        {{^slowdowns}}<tr><td colspan="4" class="none">{{t.queue_noSlowdowns}}</td></tr>{{/slowdowns}}</table>
        <h2>{{t.queue_leases}}</h2><table><tr><th>IP</th><th>{{t.queue_site}}</th><th>{{t.queue_inUse}}</th></tr>
        {{#leases}}<tr><td>{{ip}}</td><td>{{site}}</td><td>{{inUse}}</td></tr>{{/leases}}</table>
        """

    static let egress = """
        <h1>{{t.egress_title}}</h1>
        <table id="egress"><tr><th>IP</th><th>{{t.queue_pool}}</th><th>{{t.egress_weight}}</th><th>{{t.egress_state}}</th><th>{{t.egress_siteSuspensions}}</th><th>{{t.queue_slowdowns}}</th><th>{{t.egress_connections}}</th><th>{{t.egress_warmup}}</th></tr>
        {{#rows}}<tr class="{{^healthy}}over{{/healthy}}"><td>{{ip}}</td><td>{{pool}}</td><td>{{weight}}</td><td>{{state}}{{#suspendedLeft}} ({{suspendedLeft}}){{/suspendedLeft}}</td><td>{{siteSuspensions}}</td><td>{{slowdowns}}</td><td>{{connections}}</td>
        <td>{{#warmup}}{{day}} · {{sent}}/{{cap}} <progress max="100" value="{{percent}}">{{percent}}%</progress>{{/warmup}}{{^warmup}}{{t.egress_warm}}{{/warmup}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="8" class="none">{{t.egress_none}}</td></tr>{{/rows}}</table>
        <p class="hint">{{t.egress_hint}}</p>
        """

    static let accounts = """
        <h1>{{t.accounts_title}}</h1>\(notice)
        <table id="accounts"><tr><th>{{t.search_account}}</th><th>{{t.queue_pool}}</th><th>{{t.accounts_domains}}</th><th>{{t.accounts_state}}</th><th></th></tr>
        {{#rows}}<tr data-account="{{name}}"><td>{{name}}</td><td>{{pool}}</td><td>{{domains}}</td>
        <td>{{#paused}}<span class="bounced">{{t.accounts_paused}}</span> {{since}}: {{reason}}{{/paused}}{{^paused}}{{t.accounts_active}}{{/paused}}</td>
        <td>{{#paused}}<form method="post" action="/ops/accounts/resume" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="name" value="{{name}}"><button class="resume">{{t.accounts_resume}}</button></form>{{/paused}}
        {{^paused}}<form method="post" action="/ops/accounts/pause" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="name" value="{{name}}"><input name="reason" placeholder="{{t.queue_reason}}"><button class="pause">{{t.accounts_pause}}</button></form>{{/paused}}</td></tr>{{/rows}}</table>
        """

    static let audit = """
        <h1>{{t.audit_title}}</h1>
        <table id="audit"><tr><th>{{t.search_time}}</th><th>{{t.audit_actor}}</th><th>{{t.audit_action}}</th><th>{{t.audit_details}}</th></tr>
        {{#rows}}<tr><td>{{time}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{details}}</td></tr>{{/rows}}</table>
        """

    /// An operator picks the account; an account user sees only its own.
    static let chooser = """
        {{#isOperator}}<form method="get" class="chooser"><label>{{t.search_account}} <select name="account"><option value=""></option>
        {{#accounts}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/accounts}}</select></label> <button>{{t.lists_show}}</button></form>{{/isOperator}}
        """

    static let suppressions = """
        <h1>{{t.suppressions_title}}{{#account}}: {{account}}{{/account}}</h1>\(chooser)\(notice)
        {{#account}}<form method="get" class="search"><input type="hidden" name="account" value="{{account}}">
        <label>{{t.suppressions_search}} <input name="q" value="{{q}}"></label> <button id="suppression-search">{{t.search_submit}}</button> {{t.suppressions_total}} {{total}}</form>
        <table id="suppressions"><tr><th>{{t.suppressions_address}}</th><th>{{t.suppressions_reason}}</th><th>{{t.suppressions_source}}</th><th>{{t.suppressions_created}}</th><th>{{t.suppressions_expires}}</th><th></th></tr>
        {{#entries}}<tr data-address="{{address}}"><td>{{address}}</td><td>{{reason}}</td><td>{{source}}</td><td>{{created}}</td><td>{{expires}}</td><td>
        <form method="post" action="/suppressions/remove" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="account" value="{{account}}"><input type="hidden" name="address" value="{{address}}"><button class="remove">{{t.lists_remove}}</button></form></td></tr>{{/entries}}
        {{^entries}}<tr><td colspan="6" class="none">{{t.suppressions_none}}</td></tr>{{/entries}}</table>
        <h2>{{t.suppressions_add}}</h2><form method="post" action="/suppressions/add" id="suppression-add"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="account" value="{{account}}">
        <label>{{t.suppressions_address}} <input name="address" type="email" required></label>
        <label>{{t.suppressions_reason}} <select name="reason">{{#reasons}}<option value="{{value}}">{{label}}</option>{{/reasons}}</select></label>
        <label>{{t.suppressions_source}} <input name="source"></label> <button type="submit">{{t.suppressions_add}}</button></form>{{/account}}
        """

    static let webhooks = """
        <h1>{{t.webhooks_title}}{{#account}}: {{account}}{{/account}}</h1>\(chooser)\(notice)
        {{#created}}<div class="secret" id="new-secret"><p>{{t.webhooks_secretOnce}}</p><code>{{secret}}</code> ({{id}})</div>{{/created}}
        {{#account}}<table id="webhooks"><tr><th>ID</th><th>URL</th><th>{{t.webhooks_events}}</th><th>{{t.suppressions_created}}</th><th></th></tr>
        {{#endpoints}}<tr data-id="{{id}}"><td>{{id}}</td><td>{{url}}</td><td>{{events}}</td><td>{{created}}</td><td>
        <form method="post" action="/webhooks/remove" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="account" value="{{account}}"><input type="hidden" name="id" value="{{id}}"><button class="remove">{{t.lists_remove}}</button></form></td></tr>{{/endpoints}}
        {{^endpoints}}<tr><td colspan="5" class="none">{{t.webhooks_none}}</td></tr>{{/endpoints}}</table>
        <h2>{{t.webhooks_add}}</h2><form method="post" action="/webhooks/add" id="webhook-add"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="account" value="{{account}}">
        <label>URL <input name="url" type="url" required size="50" placeholder="https://example.com/hooks/hikyaku"></label>
        <fieldset><legend>{{t.webhooks_events}} ({{t.webhooks_noneMeansAll}})</legend>{{#kinds}}<label><input type="checkbox" name="event" value="{{value}}"> {{label}}</label> {{/kinds}}</fieldset>
        <button type="submit">{{t.webhooks_add}}</button></form>{{/account}}
        """
}
