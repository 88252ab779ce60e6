extension SiteSettings {
    /// The built-in presets' names (`delivery.sites[].preset`), in the order their MX
    /// patterns are tried. Delivery's `SitePresets` defines the presets themselves; a
    /// DeliveryTests test keeps the two lists equal.
    public static let presetNames = ["gmail", "yahoo", "yahoo-japan", "outlook", "apple", "docomo", "au", "softbank"]
}

extension DeliverySettings {
    /// Checks that every `delivery.sites[].preset` names a built-in preset.
    public func validatePresetNames() throws {
        for (index, site) in sites.enumerated() {
            guard let preset = site.preset, !SiteSettings.presetNames.contains(preset) else { continue }
            let known = SiteSettings.presetNames.joined(separator: ", ")
            throw ConfigurationError(
                key: "delivery.sites[\(index)].preset", problem: "'\(preset)' is not a preset (known presets: \(known))")
        }
    }
}
