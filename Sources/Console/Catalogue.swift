/// The console's strings. Keys are `area.thing`; both catalogues have every key (a unit
/// test checks), Japanese written for Japanese operators rather than translated word by word.
enum Catalogue {
    static let english = coreEnglish.merging(pagesEnglish) { core, _ in core }.merging(campaignsEnglish) { core, _ in core }
    static let japanese = coreJapanese.merging(pagesJapanese) { core, _ in core }.merging(campaignsJapanese) { core, _ in core }

    static let coreEnglish: [String: String] = [
        "app.title": "Hikyaku console",
        "nav.overview": "Overview", "nav.search": "Log search", "nav.logout": "Log out", "nav.language": "日本語",
        "login.title": "Log in", "login.name": "User name", "login.password": "Password", "login.submit": "Log in",
        "login.failed": "The user name or password is wrong.",
        "login.locked": "Too many failed attempts. Try again later.",
        "overview.title": "Overview", "overview.today": "Today", "overview.7d": "7 days", "overview.30d": "30 days",
        "overview.accepted": "Accepted", "overview.delivered": "Delivered", "overview.bounced": "Bounced",
        "overview.deferred": "Deferred", "overview.complaints": "Complaints", "overview.deliveryRate": "Delivery rate",
        "overview.bounceRate": "Bounce rate", "overview.complaintRate": "Complaint rate",
        "overview.limit": "limit", "overview.over": "over the limit", "overview.perHour": "Per hour, last 24 hours",
        "overview.bySite": "By receiving site, 7 days", "overview.site": "Site",
        "search.title": "Log search", "search.recipient": "Recipient", "search.messageID": "Message-ID",
        "search.queueID": "Queue ID", "search.status": "Status", "search.class": "Bounce class", "search.site": "Site",
        "search.since": "From", "search.until": "To", "search.any": "(any)", "search.submit": "Search",
        "search.csv": "Download CSV", "search.none": "No events match.", "search.time": "Time", "search.account": "Account",
        "search.reply": "Remote reply", "search.more": "Older events",
        "timeline.title": "Message timeline", "timeline.notFound": "No such message.",
        "timeline.attempt": "Attempt", "timeline.remote": "Remote host",
        "error.forbidden": "You may not see this.", "error.notFound": "Not found.",
        "error.csrf": "The form expired. Reload the page and try again.",
        "error.unavailable": "The log store is not available.",
        "kind.accepted": "accepted", "kind.delivered": "delivered", "kind.deferred": "deferred", "kind.bounced": "bounced",
        "kind.expired": "expired", "kind.complaint": "complaint", "kind.suppressed": "suppressed", "kind.purged": "purged",
        "kind.unsubscribed": "unsubscribed",
        "kind.backoff": "backoff", "kind.paused": "paused", "kind.resumed": "resumed",
        "role.operator": "operator", "role.account": "account",
    ]

    static let coreJapanese: [String: String] = [
        "app.title": "Hikyaku コンソール",
        "nav.overview": "概要", "nav.search": "ログ検索", "nav.logout": "ログアウト", "nav.language": "English",
        "login.title": "ログイン", "login.name": "ユーザー名", "login.password": "パスワード", "login.submit": "ログイン",
        "login.failed": "ユーザー名またはパスワードが正しくありません。",
        "login.locked": "失敗が続いたため、しばらくログインできません。時間をおいて再度お試しください。",
        "overview.title": "概要", "overview.today": "本日", "overview.7d": "7日間", "overview.30d": "30日間",
        "overview.accepted": "受付", "overview.delivered": "配信成功", "overview.bounced": "バウンス",
        "overview.deferred": "再送待ち", "overview.complaints": "苦情", "overview.deliveryRate": "到達率",
        "overview.bounceRate": "バウンス率", "overview.complaintRate": "苦情率",
        "overview.limit": "上限", "overview.over": "上限超過", "overview.perHour": "時間別（直近24時間）",
        "overview.bySite": "受信サイト別（7日間）", "overview.site": "サイト",
        "search.title": "ログ検索", "search.recipient": "宛先", "search.messageID": "Message-ID",
        "search.queueID": "キューID", "search.status": "状態", "search.class": "バウンス分類", "search.site": "サイト",
        "search.since": "開始", "search.until": "終了", "search.any": "（すべて）", "search.submit": "検索",
        "search.csv": "CSVダウンロード", "search.none": "該当するイベントはありません。", "search.time": "日時",
        "search.account": "アカウント", "search.reply": "相手サーバーの応答", "search.more": "さらに古いイベント",
        "timeline.title": "メッセージの経過", "timeline.notFound": "該当するメッセージはありません。",
        "timeline.attempt": "試行", "timeline.remote": "相手ホスト",
        "error.forbidden": "表示する権限がありません。", "error.notFound": "見つかりません。",
        "error.csrf": "フォームの有効期限が切れました。再読み込みしてからもう一度お試しください。",
        "error.unavailable": "ログストアを利用できません。",
        "kind.accepted": "受付", "kind.delivered": "配信成功", "kind.deferred": "再送待ち", "kind.bounced": "バウンス",
        "kind.expired": "期限切れ", "kind.complaint": "苦情", "kind.suppressed": "配信停止", "kind.purged": "削除",
        "kind.unsubscribed": "配信解除",
        "kind.backoff": "減速", "kind.paused": "一時停止", "kind.resumed": "再開",
        "role.operator": "運用者", "role.account": "アカウント",
    ]
}
