enum PageAssets { static let indexHTML = "<html></html>" }
