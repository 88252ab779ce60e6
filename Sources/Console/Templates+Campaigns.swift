/// The campaign pages: the list (`/campaigns`) and one campaign (`/campaigns/{id}`) with its
/// pause, resume and cancel forms (each with the session's CSRF token).
extension Templates {
    static let campaigns = """
        <h1>{{t.campaigns_title}}{{#account}}: {{account}}{{/account}}</h1>\(chooser)
        <table id="campaigns"><tr><th>{{t.campaigns_name}}</th>{{#isOperator}}<th>{{t.search_account}}</th>{{/isOperator}}<th>{{t.campaigns_state}}</th><th>{{t.campaigns_rows}}</th>
        <th>{{t.campaigns_queued}}</th><th>{{t.kind_delivered}}</th><th>{{t.kind_deferred}}</th><th>{{t.kind_bounced}}</th><th>{{t.kind_unsubscribed}}</th><th>{{t.kind_suppressed}}</th>
        <th>{{t.campaigns_progress}}</th><th>{{t.campaigns_bySite}}</th><th>{{t.campaigns_start}}</th><th>{{t.campaigns_window}}</th></tr>
        {{#campaigns}}<tr data-id="{{id}}"><td><a href="/campaigns/{{id}}">{{name}}</a></td>{{#isOperator}}<td class="account">{{account}}</td>{{/isOperator}}
        <td class="state state-{{state}}">{{stateLabel}}</td><td class="rows">{{rows}}</td><td class="queued">{{queued}}</td><td class="delivered">{{delivered}}</td>
        <td class="deferred">{{deferred}}</td><td class="bounced">{{bounced}}</td><td class="unsubscribed">{{unsubscribed}}</td><td class="suppressed">{{suppressed}}</td>
        <td class="bar">{{{bar}}} {{percent}}</td><td class="sites">{{#sites}}<div data-site="{{site}}">{{site}}: {{summary}}</div>{{/sites}}</td><td>{{start}}</td><td>{{window}}</td></tr>{{/campaigns}}
        {{^campaigns}}<tr><td colspan="14" class="none">{{t.campaigns_none}}</td></tr>{{/campaigns}}</table>
        """

    static let campaign = """
        <h1>{{t.campaigns_title}}: {{name}}</h1>\(notice)
        <table id="campaign" data-id="{{id}}"><tr><th>ID</th><td>{{id}}</td></tr><tr><th>{{t.search_account}}</th><td>{{account}}</td></tr>
        <tr><th>{{t.campaigns_state}}</th><td class="state state-{{state}}">{{stateLabel}}{{#reason}} — {{reason}}{{/reason}}</td></tr>
        <tr><th>{{t.campaigns_list}}</th><td>{{list}}</td></tr><tr><th>From</th><td>{{from}}</td></tr><tr><th>{{t.campaigns_subject}}</th><td>{{subject}}</td></tr>
        <tr><th>{{t.campaigns_start}}</th><td>{{start}}</td></tr><tr><th>{{t.campaigns_window}}</th><td>{{window}}</td></tr><tr><th>{{t.campaigns_maxRate}}</th><td>{{maxRate}}</td></tr>
        <tr><th>{{t.campaigns_progress}}</th><td>{{{bar}}} {{t.campaigns_settled}} {{settled}}/{{rows}} ({{percent}}) · {{t.campaigns_handled}} {{handled}}/{{rows}}</td></tr></table>
        <table id="counts"><tr><th>{{t.campaigns_rows}}</th><th>{{t.campaigns_queued}}</th><th>{{t.kind_delivered}}</th><th>{{t.kind_deferred}}</th><th>{{t.kind_bounced}}</th><th>{{t.kind_expired}}</th>
        <th>{{t.kind_complaint}}</th><th>{{t.kind_unsubscribed}}</th><th>{{t.kind_suppressed}}</th><th>{{t.campaigns_failed}}</th></tr>
        <tr><td class="rows">{{rows}}</td><td class="queued">{{queued}}</td><td class="delivered">{{delivered}}</td><td class="deferred">{{deferred}}</td><td class="bounced">{{bounced}}</td>
        <td class="expired">{{expired}}</td><td class="complaint">{{complaint}}</td><td class="unsubscribed">{{unsubscribed}}</td><td class="suppressed">{{suppressed}}</td><td class="failed">{{failed}}</td></tr></table>
        <h2>{{t.campaigns_bySite}}</h2><table id="sites"><tr><th>{{t.overview_site}}</th><th>{{t.kind_delivered}}</th><th>{{t.kind_deferred}}</th><th>{{t.kind_bounced}}</th><th>{{t.kind_expired}}</th></tr>
        {{#sites}}<tr data-site="{{site}}"><td>{{site}}</td><td class="delivered">{{delivered}}</td><td class="deferred">{{deferred}}</td><td class="bounced">{{bounced}}</td><td class="expired">{{expired}}</td></tr>{{/sites}}
        {{^sites}}<tr><td colspan="5" class="none">{{t.campaigns_noSites}}</td></tr>{{/sites}}</table>
        <p class="actions">{{#canPause}}<form method="post" action="/campaigns/{{id}}/pause" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="campaign-pause">{{t.campaigns_pause}}</button></form> {{/canPause}}
        {{#canResume}}<form method="post" action="/campaigns/{{id}}/resume" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="campaign-resume">{{t.campaigns_resume}}</button></form> {{/canResume}}
        {{#canCancel}}<form method="post" action="/campaigns/{{id}}/cancel" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="campaign-cancel">{{t.campaigns_cancel}}</button></form>{{/canCancel}}</p>
        <p><a href="/campaigns">{{t.campaigns_back}}</a></p>
        """
}
