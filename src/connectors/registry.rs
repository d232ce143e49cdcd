//! The registries: one per kind (linked service, dataset, source, sink). Adding a connector is
//! its folder plus one line in each registry it joins.
