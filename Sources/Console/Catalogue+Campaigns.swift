/// The strings of the campaign pages (``Templates`` `+Campaigns`).
extension Catalogue {
    static let campaignsEnglish: [String: String] = [
        "nav.campaigns": "Campaigns", "campaigns.title": "Campaigns", "campaigns.name": "Name", "campaigns.state": "State",
        "campaigns.rows": "List rows", "campaigns.queued": "Queued", "campaigns.progress": "Progress", "campaigns.bySite": "By site",
        "campaigns.start": "Start", "campaigns.window": "Sending window", "campaigns.anyTime": "any time",
        "campaigns.none": "No campaigns.", "campaigns.list": "List", "campaigns.subject": "Subject", "campaigns.maxRate": "Max rate",
        "campaigns.settled": "settled", "campaigns.handled": "enqueued", "campaigns.failed": "Failed",
        "campaigns.noSites": "No outcomes yet.", "campaigns.pause": "Pause", "campaigns.resume": "Resume",
        "campaigns.cancel": "Cancel the campaign", "campaigns.back": "All campaigns",
        "campaigns.conflict": "The campaign is not in a state that allows this; reload the page.",
        "cstate.scheduled": "scheduled", "cstate.running": "sending", "cstate.paused": "paused", "cstate.cancelled": "cancelled",
        "cstate.sent": "sent", "cstate.failed": "failed",
        "done.campaign_pause": "The campaign is paused.", "done.campaign_resume": "The campaign is sending again.",
        "done.campaign_cancel": "The campaign is cancelled; mail already queued is still delivered.",
    ]

    static let campaignsJapanese: [String: String] = [
        "nav.campaigns": "キャンペーン", "campaigns.title": "キャンペーン", "campaigns.name": "名前", "campaigns.state": "状態",
        "campaigns.rows": "リスト件数", "campaigns.queued": "投入済み", "campaigns.progress": "進捗", "campaigns.bySite": "受信サイト別",
        "campaigns.start": "開始日時", "campaigns.window": "送信時間帯", "campaigns.anyTime": "指定なし",
        "campaigns.none": "キャンペーンはありません。", "campaigns.list": "リスト", "campaigns.subject": "件名", "campaigns.maxRate": "最大速度",
        "campaigns.settled": "完了", "campaigns.handled": "投入", "campaigns.failed": "送信不可",
        "campaigns.noSites": "まだ結果はありません。", "campaigns.pause": "一時停止", "campaigns.resume": "再開",
        "campaigns.cancel": "キャンペーンを中止", "campaigns.back": "キャンペーン一覧へ",
        "campaigns.conflict": "現在の状態ではこの操作はできません。ページを再読み込みしてください。",
        "cstate.scheduled": "予約済み", "cstate.running": "送信中", "cstate.paused": "一時停止中", "cstate.cancelled": "中止",
        "cstate.sent": "送信完了", "cstate.failed": "失敗",
        "done.campaign_pause": "キャンペーンを一時停止しました。", "done.campaign_resume": "キャンペーンの送信を再開しました。",
        "done.campaign_cancel": "キャンペーンを中止しました。投入済みのメールは引き続き配信されます。",
    ]
}
