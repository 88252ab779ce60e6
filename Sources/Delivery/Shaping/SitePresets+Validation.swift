import RelayCore

extension SitePresets {
    /// Checks that every `delivery.sites[].preset` names a built-in preset (RelayCore,
    /// which validates the rest of the configuration, does not know the presets).
    public static func validatePresetNames(in settings: DeliverySettings) throws {
        for (index, site) in settings.sites.enumerated() {
            guard let preset = site.preset, named(preset) == nil else { continue }
            let known = all.map(\.name).joined(separator: ", ")
            throw ConfigurationError(key: "delivery.sites[\(index)].preset", problem: "'\(preset)' is not a preset (known presets: \(known))")
        }
    }
}
